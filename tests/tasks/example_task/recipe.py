"""What a tint recipe may say: a photo folder, and how warm the tuned end is."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from dynamicnet.training.recipe import (
    BATCH,
    POSITIVE,
    SIDE,
    STR,
    UNIT,
    WIDTH,
    WORKERS,
    RecipeModel,
    RecipeSpec,
    StageTable,
    Table,
    TuneTable,
    one_of,
)


class TintModelTable(Table):
    variant: one_of("single") = "single"
    width: WIDTH = 8


class TintDataTable(Table):
    photos: STR
    crop: SIDE = 16
    batch: BATCH = 2  # the trainer reads batch and workers
    workers: WORKERS = 0


class TintMain(StageTable):
    lr: POSITIVE = 1e-2


class TintTune(TuneTable):
    lr: POSITIVE = 1e-2


class TintRecipe(RecipeModel):
    task: Literal["tint"] = "tint"
    warmth: UNIT = 0.3
    model: TintModelTable = Field(default_factory=TintModelTable)
    data: TintDataTable
    main: TintMain = Field(default_factory=TintMain)
    tune: Annotated[list[TintTune], Field(min_length=1)]


RECIPE = RecipeSpec(TintRecipe)
