"""The tint task's own verb, ``dynamicnet tint``."""

from . import tint

COMMANDS = (tint,)
STUDIES = ()
