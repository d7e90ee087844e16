"""Image completion: a faithful fill from the main network, a sharper one from the blocks."""

from ..base import Task
from . import model
from .recipe import RECIPE
from .training import CompletionTraining

TASK = Task(
    name=model.TASK,
    package=__name__,
    summary="image completion: from a smooth, faithful fill to a sharper, textured one",
    build=model.build,
    recipe=RECIPE,
    training=CompletionTraining,
)
