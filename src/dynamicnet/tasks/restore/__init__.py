"""Restoration (super-resolution, denoising): a faithful result from the main network, a
sharper one with invented detail from the blocks; alpha is the perception-distortion knob."""

from ..base import Task
from . import model
from .recipe import RECIPE
from .training import RestoreTraining

TASK = Task(
    name=model.TASK,
    package=__name__,
    summary="restoration (super-resolution, denoising): from faithful to sharp",
    build=model.build,
    recipe=RECIPE,
    training=RestoreTraining,
)
