"""The studies: each model measured against fixed networks and the other one-knob methods.
Each task brings its own (its ``commands`` front end's ``STUDIES``)."""

from __future__ import annotations

import argparse

from ..extras import require
from ..tasks import TASKS, front_end


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("evaluate", help="measure models against their objectives and baselines")
    p.set_defaults(run=run)
    studies = p.add_subparsers(dest="evaluation", metavar="STUDY", required=True)
    for task in TASKS.values():
        front = front_end(task, "commands")
        for study in front.STUDIES if front is not None else ():
            study.register(studies)


def run(args) -> int:
    for module in ("matplotlib", "skimage"):  # asked for before hours of training, not after
        require(module, "studies", "dynamicnet evaluate")
    return args.study(args)
