"""What a completion recipe may say: photos or aligned faces, the holes to fill, and
[objectives.NAME] tables weighing reconstruction, perceptual and adversarial terms."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ...losses.pixel import check_pixel_objectives
from ...training.recipe import (
    BATCH,
    BOOL,
    POSITIVE,
    SIDE,
    STR,
    STR_LIST,
    UNIT,
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
)


class CompletionModelTable(Table):
    variant: one_of("single") = "single"
    width: WIDTH = 32
    ndf: WIDTH = 64
    # the network starts from a classical fill of the hole and learns what to add: "smooth", or
    # "patchmatch" (the mean of the smooth and a PatchMatch fill; the network sees both)
    prefill: optional(one_of("smooth", "patchmatch")) = absent()


class CompletionDataTable(Table):
    photos: optional(STR) = absent()  # a photo folder, or
    faces: optional(STR) = absent()  # aligned faces in CelebA's layout
    split: optional(one_of("train", "val", "test")) = absent()
    crop: SIDE = 128
    resize: optional(SIDE) = None
    size: SIDE = 64
    batch: BATCH = 8
    workers: WORKERS = 0
    holdout: optional(STR_LIST) = absent()
    flip: BOOL = False
    mask: one_of("centre", "box", "free", "mixed") = "centre"  # mixed: box or brush strokes, half each
    hole: UNIT = 0.5


class CompletionMain(StageTable):
    objective: STR
    lr: POSITIVE = 2e-4
    init: optional(STR) = absent()


class CompletionTune(TuneTable):
    objective: STR
    lr: POSITIVE = 1e-4
    # blocks trained across the knob: alpha t learns the objective mix t ** mix_exponent. Above 1
    # the low alphas stay near the main objective, for a fill that otherwise moves most at
    # small alpha (its classical fills' weights saturate as they approach one fill)
    mix_exponent: optional(POSITIVE) = absent()


class CompletionAdversaryTable(PatchAdversaryTable):
    """``patches = "hole"`` counts each of the discriminator's patches by how much of the hole
    it covers (absent: all alike). Scored over whole crops, four fifths of which are the same
    known pixels in real and filled images, it scored both alike (0.457 against 0.455)."""

    patches: optional(one_of("all", "hole")) = absent()


class CompletionRecipe(RecipeModel):
    task: Literal["completion"] = "completion"
    perceptual: STR = "auto"  # loaded only when an objective weighs the perceptual term
    model: CompletionModelTable = Field(default_factory=CompletionModelTable)
    data: CompletionDataTable = Field(default_factory=CompletionDataTable)
    adversary: CompletionAdversaryTable = Field(default_factory=CompletionAdversaryTable)
    objectives: Any = absent()  # checked by the objective parser (losses.pixel.PixelObjective)
    main: CompletionMain
    tune: Annotated[list[CompletionTune], Field(min_length=1)]


def _check(d: dict, where: str) -> None:
    check_pixel_objectives(d, where)
    if ("photos" in d["data"]) == ("faces" in d["data"]):
        raise RecipeError(f"{where}: [data] needs either 'photos' (a folder) or 'faces' (CelebA layout)")
    check_resize(d, where)
    for table in d["tune"]:
        if "mix_exponent" in table and table.get("alpha") != "across":
            raise RecipeError(f"{where}: [[tune]] 'mix_exponent' goes with alpha = \"across\"")


RECIPE = RecipeSpec(CompletionRecipe, _check)
