"""Style transfer: a feed-forward network for one style objective, blocks for another."""

from ..base import Task
from . import model
from .recipe import RECIPE
from .training import StyleTraining

TASK = Task(
    name=model.TASK,
    package=__name__,
    summary="style transfer: stylization strength, style to style, stroke scale",
    build=model.build,
    recipe=RECIPE,
    training=StyleTraining,
)
