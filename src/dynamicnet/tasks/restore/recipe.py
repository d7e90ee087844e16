"""What a restore recipe may say: a photo folder, the degradation to undo ([degradation]),
the network's size, and [objectives.NAME] tables weighing L1, perceptual and adversarial
terms (one for the main network, one for the blocks)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ...losses.pixel import check_pixel_objectives
from ...training.recipe import (
    BATCH,
    NON_NEGATIVE,
    POSITIVE,
    SIDE,
    STR,
    STR_LIST,
    WIDTH,
    WORKERS,
    PatchAdversaryTable,
    RecipeError,
    RecipeModel,
    RecipeSpec,
    StageTable,
    Table,
    TuneTable,
    absent,
    check_resize,
    one_of,
    optional,
    whole,
)
from .network import UPSAMPLERS


class RestoreModelTable(Table):
    variant: one_of("single") = "single"
    width: WIDTH = 48
    depth: whole(2, 64, "a number of residual blocks from 2 to 64") = 8
    ndf: WIDTH = 64  # the patch discriminator's width (objectives with an adversarial term)
    # super-resolution's enlargement: "shuffle" (sub-pixel convolution) or "resize" (nearest
    # enlargement, then convolution: no grid at the sharp end); absent means shuffle
    upsample: optional(one_of(*UPSAMPLERS)) = absent()


class DegradationTable(Table):
    scale: one_of(1, 2, 3, 4) = 1  # > 1: super-resolution
    blur: NON_NEGATIVE = 0.0  # Gaussian sigma before subsampling (0: bicubic shrinking)
    noise: NON_NEGATIVE = 0.0  # Gaussian noise sigma in 0-255 levels
    jpeg: whole(0, 95, "a JPEG quality from 1 to 95, or 0 for none") = 0


class RestoreDataTable(Table):
    photos: STR
    holdout: optional(STR_LIST) = absent()
    crop: SIDE = 96  # of the clean picture; the degraded one is crop / scale
    resize: optional(SIDE) = None
    batch: BATCH = 16
    workers: WORKERS = 0


class RestoreMain(StageTable):
    objective: STR
    lr: POSITIVE = 2e-4
    init: optional(STR) = absent()


class RestoreTune(TuneTable):
    objective: STR
    lr: POSITIVE = 1e-4


class RestoreRecipe(RecipeModel):
    task: Literal["restore"] = "restore"
    perceptual: STR = "auto"  # loaded only when an objective weighs the perceptual term
    model: RestoreModelTable = Field(default_factory=RestoreModelTable)
    degradation: DegradationTable = Field(default_factory=DegradationTable)
    data: RestoreDataTable
    adversary: PatchAdversaryTable = Field(default_factory=PatchAdversaryTable)
    objectives: Any = absent()  # checked by losses.pixel.PixelObjective
    main: RestoreMain
    tune: Annotated[list[RestoreTune], Field(min_length=1)]


def _check(d: dict, where: str) -> None:
    check_pixel_objectives(d, where)
    check_resize(d, where)
    degradation, crop = d["degradation"], d["data"]["crop"]
    if degradation["scale"] == 1 and not (degradation["noise"] or degradation["jpeg"]):
        raise RecipeError(
            f"{where}: [degradation] undoes nothing: give 'scale' (2, 3 or 4), 'noise' or 'jpeg'"
        )
    if degradation["blur"] and degradation["scale"] == 1:
        raise RecipeError(f"{where}: [degradation] 'blur' goes with a 'scale' above 1")
    if crop % degradation["scale"]:
        raise RecipeError(
            f"{where}: [data] crop ({crop}) must be a multiple of the scale ({degradation['scale']})"
        )
    if len(d["tune"]) != 1:
        raise RecipeError(f"{where}: a restore recipe has one [[tune]] table (one block set)")


RECIPE = RecipeSpec(RestoreRecipe, _check)
