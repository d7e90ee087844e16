"""A complete task in a few small files, to show what adding one takes (docs/architecture.md):
``tint`` trains a network to reproduce photos (O_0) and tuning blocks to tint them warm
(O_1), so alpha moves from the photo to its tinted version. Pixel losses only: it trains in
seconds on the test photos. The test registers it beside the shipped tasks, changing no
file of the library."""

from dynamicnet.tasks import Task

from . import model
from .recipe import RECIPE
from .training import TintTraining

TASK = Task(
    name=model.TASK,
    package=__name__,
    summary="a warm tint: from the photo (alpha 0) to its tinted version (alpha 1)",
    build=model.build,
    recipe=RECIPE,
    training=TintTraining,
)
