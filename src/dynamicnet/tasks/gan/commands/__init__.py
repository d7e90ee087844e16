"""The GAN task's commands: ``generate`` and ``dynamicnet evaluate gan``."""

from . import evaluate, generate

COMMANDS = (generate,)
STUDIES = (evaluate,)
