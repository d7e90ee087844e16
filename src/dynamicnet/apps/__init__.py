"""Applications of the mechanism: each registers how to build its model from metadata."""

from . import completion, gan, style

BUILDERS = {style.TASK: style.build, gan.TASK: gan.build, completion.TASK: completion.build}

__all__ = ["BUILDERS", "completion", "gan", "style"]
