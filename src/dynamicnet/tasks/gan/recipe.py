"""What a Dynamic DCGAN recipe may say: a face folder, an attribute subset per stage, and
the adversary's settings."""

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
    UNIT,
    WIDTH,
    WORKERS,
    RecipeSpec,
    one_of,
)

RECIPE = RecipeSpec(
    task="gan",
    defaults={  # the paper's DCGAN settings
        "model": {"variant": "single", "latent": 100, "ngf": 128, "ndf": 128},
        "data": {"crop": 108, "size": 64, "batch": 128, "workers": 0, "flip": False},
        # real_label < 1 is one-sided label smoothing; r1 > 0 a gradient penalty on real faces.
        # A [main] or [[tune]] table may set either for its phase alone.
        "adversary": {"real_label": 1.0, "r1": 0.0},
    },
    stage_defaults={
        "main": {"steps": 1000, "lr": 2e-4},
        "tune": {"set": "default", "steps": 1000, "lr": 2e-4},
    },
    schema={
        "model": {"variant": one_of("single", "dual"), "latent": WIDTH, "ngf": WIDTH, "ndf": WIDTH},
        "data": {
            "faces": STR,
            "split": one_of("train", "val", "test"),
            "crop": SIDE,
            "size": one_of(64),
            "batch": BATCH,
            "workers": WORKERS,
            "flip": BOOL,
        },
        "adversary": {"real_label": UNIT, "r1": NON_NEGATIVE},
        "main": {
            "subset": STR,
            "steps": STEPS,
            "lr": POSITIVE,
            "init": STR,
            "real_label": UNIT,
            "r1": NON_NEGATIVE,
        },
        "tune": [
            {
                "set": IDENT,
                "subset": STR,
                "steps": STEPS,
                "lr": POSITIVE,
                "real_label": UNIT,
                "r1": NON_NEGATIVE,
            }
        ],
    },  # fmt: skip
    required={"data": ["faces"], "main": ["subset"], "tune": ["subset"]},
)
