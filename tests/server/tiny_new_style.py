"""``dynamicnet`` whose new-style trainings are tiny (32 px crops, 64 px style targets, small
figures, steps not timed): the demo's tests give it to the server as its training
command, so that a training takes seconds. While the file ``NEW_STYLE_HOLD`` names
exists, a trained run waits before its model is measured and saved, so that a test finds
it under way with a checkpoint."""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time

import torch

from dynamicnet.cli.main import main
from dynamicnet.tasks.style import new_style as ns
from dynamicnet.training import trainer

torch.set_num_threads(1)  # the tests' own process shares the cores
ns.KNOBS = {
    k: dataclasses.replace(v, low={**v.low, "style_size": 64}, high={**v.high, "style_size": 64})
    for k, v in ns.KNOBS.items()
}
ns.TRAINING_DATA = {"crop": 32, "resize": 36, "batch": 2}
ns.KNOB_SIDE = 160
ns.SHEET_SIDE = 48
ns._MEASURE_SECONDS = 60  # a one-minute budget leaves no time: the fewest steps, one per stage
trainer.time_training = lambda recipe: trainer.StepTiming(0.1, 0.0, math.inf, 2)  # not timed
hold, finish = os.environ.get("NEW_STYLE_HOLD"), ns.finish


def held_finish(*args, **kwargs):
    while hold and os.path.exists(hold):
        time.sleep(0.05)
    return finish(*args, **kwargs)


ns.finish = held_finish

sys.exit(main(sys.argv[1:]))
