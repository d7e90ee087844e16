"""Applications of the mechanism: each registers how to build its model from metadata."""

from . import style

BUILDERS = {style.TASK: style.build}

__all__ = ["BUILDERS", "style"]
