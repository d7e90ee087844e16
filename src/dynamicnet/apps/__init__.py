"""Applications of the mechanism: each registers how to build its model from metadata."""

from . import gan, style

BUILDERS = {style.TASK: style.build, gan.TASK: gan.build}

__all__ = ["BUILDERS", "gan", "style"]
