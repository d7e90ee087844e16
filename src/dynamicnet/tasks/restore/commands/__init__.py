"""The restore task's commands: ``restore``."""

from . import restore

COMMANDS = (restore,)
STUDIES = ()
