"""What a style recipe may say: a photo folder, [objectives.NAME] tables of style images and
weights, and the network the blocks attach to."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ...losses.perceptual import StyleObjective
from ...training.recipe import (
    BATCH,
    POSITIVE,
    SIDE,
    STR,
    STR_LIST,
    WORKERS,
    RecipeError,
    RecipeModel,
    RecipeSpec,
    StageTable,
    Table,
    TuneTable,
    absent,
    check_objectives,
    check_resize,
    one_of,
    optional,
    whole,
)


class StyleModelTable(Table):
    variant: one_of("single", "dual", "multi") = "single"
    # no default: recipes written before it keep their hash (run caches and resumes use it)
    architecture: optional(one_of("johnson", "fast")) = absent()
    init: optional(STR) = absent()  # a model file (or shipped name) to start every network from


class StyleDataTable(Table):
    photos: STR
    crop: SIDE = 128
    resize: optional(SIDE) = None
    batch: BATCH = 4
    workers: WORKERS = 0
    holdout: optional(STR_LIST) = absent()
    context: optional(whole(0, 256)) = absent()


class StyleMain(StageTable):
    objective: STR
    lr: POSITIVE = 1e-3
    init: optional(STR) = absent()


class StyleTune(TuneTable):
    objective: STR
    lr: POSITIVE = 1e-4


class StyleRecipe(RecipeModel):
    task: Literal["style"] = "style"
    perceptual: STR = "auto"
    model: StyleModelTable = Field(default_factory=StyleModelTable)
    data: StyleDataTable
    objectives: Any = absent()  # checked by the objective parser (losses.perceptual.StyleObjective)
    main: StyleMain
    tune: Annotated[list[StyleTune], Field(min_length=1)]


def _check(d: dict, where: str) -> None:
    check_objectives(d, where)
    for name, table in d["objectives"].items():  # a typo in an objective fails now, not at training
        try:
            StyleObjective.from_dict(table, name=name)
        except RecipeError as err:
            raise RecipeError(f"{where}: {err}") from None
    check_resize(d, where)


RECIPE = RecipeSpec(StyleRecipe, _check)
