"""What a completion recipe may say: photos or aligned faces, the holes to fill, and
[objectives.NAME] tables weighing reconstruction, perceptual and adversarial terms."""

from __future__ import annotations

from ...training.recipe import (
    BATCH,
    BOOL,
    IDENT,
    NON_NEGATIVE,
    POSITIVE,
    SIDE,
    STEPS,
    STR,
    STR_LIST,
    UNIT,
    WIDTH,
    WORKERS,
    RecipeError,
    RecipeSpec,
    check_objectives,
    check_resize,
    one_of,
    optional,
)


def _check(d: dict, where: str) -> None:
    check_objectives(d, where)
    if ("photos" in d["data"]) == ("faces" in d["data"]):
        raise RecipeError(f"{where}: [data] needs either 'photos' (a folder) or 'faces' (CelebA layout)")
    check_resize(d, where)


RECIPE = RecipeSpec(
    task="completion",
    defaults={
        "perceptual": "auto",  # loaded only when an objective weighs the perceptual term
        "model": {"variant": "single", "width": 32, "ndf": 64},
        "data": {
            "crop": 128,
            "resize": None,
            "batch": 8,
            "workers": 0,
            "mask": "centre",
            "hole": 0.5,
            "flip": False,
            "size": 64,
        },
        "adversary": {"real_label": 1.0, "r1": 0.0},
    },  # fmt: skip
    stage_defaults={
        "main": {"steps": 1000, "lr": 2e-4},
        "tune": {"set": "default", "steps": 1000, "lr": 1e-4},
    },
    schema={
        "perceptual": STR,
        "model": {"variant": one_of("single"), "width": WIDTH, "ndf": WIDTH},
        "data": {
            "photos": STR,
            "faces": STR,
            "split": one_of("train", "val", "test"),
            "crop": SIDE,
            "resize": optional(SIDE),
            "size": SIDE,
            "batch": BATCH,
            "workers": WORKERS,
            "holdout": STR_LIST,
            "flip": BOOL,
            "mask": one_of("centre", "box", "free"),
            "hole": UNIT,
        },
        "adversary": {"real_label": UNIT, "r1": NON_NEGATIVE},
        "objectives": None,  # checked by the objective parser (objectives.CompletionObjective)
        "main": {"objective": STR, "steps": STEPS, "lr": POSITIVE, "init": STR},
        "tune": [{"set": IDENT, "objective": STR, "steps": STEPS, "lr": POSITIVE}],
    },  # fmt: skip
    required={"main": ["objective"], "tune": ["objective"]},
    check=_check,
)
