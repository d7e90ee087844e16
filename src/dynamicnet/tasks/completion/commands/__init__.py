"""The completion task's commands: ``complete`` and ``dynamicnet evaluate completion``."""

from . import complete, evaluate

COMMANDS = (complete,)
STUDIES = (evaluate,)
