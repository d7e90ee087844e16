"""A Dynamic DCGAN: a generator for one face attribute subset, blocks for another."""

from ..base import Task
from . import model
from .recipe import RECIPE
from .training import GanTraining

TASK = Task(
    name=model.TASK,
    package=__name__,
    summary="face generation: a DCGAN moved from one attribute to another",
    build=model.build,
    recipe=RECIPE,
    training=GanTraining,
)
