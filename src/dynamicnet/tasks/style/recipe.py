"""What a style recipe may say: a photo folder, [objectives.NAME] tables of style images and
weights, and the network the blocks attach to."""

from __future__ import annotations

from ...training.recipe import (
    BATCH,
    IDENT,
    POSITIVE,
    SIDE,
    STEPS,
    STR,
    STR_LIST,
    WORKERS,
    RecipeSpec,
    check_objectives,
    check_resize,
    one_of,
    optional,
    whole,
)

TUNE_ALPHA_MODES = ("end", "across")


def _check(d: dict, where: str) -> None:
    check_objectives(d, where)
    check_resize(d, where)


RECIPE = RecipeSpec(
    task="style",
    defaults={
        "perceptual": "auto",
        # [model] architecture ("johnson") and [data] context (0) have no defaults here, so that
        # recipes written before them keep their hash (run caches and resumes are keyed by it)
        "model": {"variant": "single"},
        "data": {"crop": 128, "resize": None, "batch": 4, "workers": 0},
    },
    stage_defaults={
        "main": {"steps": 1000, "lr": 1e-3},
        "tune": {"set": "default", "steps": 1000, "lr": 1e-4},
    },
    schema={
        "perceptual": STR,
        "model": {
            "variant": one_of("single", "dual", "multi"),
            "architecture": one_of("johnson", "fast"),
            "init": STR,
        },
        "data": {
            "photos": STR,
            "crop": SIDE,
            "resize": optional(SIDE),
            "batch": BATCH,
            "workers": WORKERS,
            "holdout": STR_LIST,
            "context": whole(0, 256),
        },
        "objectives": None,  # checked by the objective parser (losses.perceptual.StyleObjective)
        "main": {"objective": STR, "steps": STEPS, "lr": POSITIVE, "init": STR},
        # alpha: "end" trains the blocks at their set's unit alpha only (the paper); "across"
        # at an alpha drawn each step on the matching mix of the main and the set's objectives.
        # No default here, so recipes written before it keep their hash.
        "tune": [
            {
                "set": IDENT,
                "objective": STR,
                "steps": STEPS,
                "lr": POSITIVE,
                "alpha": one_of(*TUNE_ALPHA_MODES),
            }
        ],
    },  # fmt: skip
    required={"data": ["photos"], "main": ["objective"], "tune": ["objective"]},
    check=_check,
)
