"""The restore task's commands: ``restore`` and ``dynamicnet evaluate restore``."""

from . import evaluate, restore

COMMANDS = (restore,)
STUDIES = (evaluate,)
