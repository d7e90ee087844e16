"""What a Dynamic DCGAN recipe may say: a face folder, an attribute subset per stage, and
the adversary's settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...training.recipe import (
    BATCH,
    BOOL,
    NON_NEGATIVE,
    POSITIVE,
    SIDE,
    STR,
    UNIT,
    WIDTH,
    WORKERS,
    AdversaryTable,
    RecipeModel,
    RecipeSpec,
    StageTable,
    Table,
    TuneTable,
    absent,
    one_of,
    optional,
)


class GanModelTable(Table):  # the paper's DCGAN settings
    variant: one_of("single", "dual") = "single"
    latent: WIDTH = 100
    ngf: WIDTH = 128
    ndf: WIDTH = 128


class GanDataTable(Table):
    faces: STR
    split: optional(one_of("train", "val", "test")) = absent()
    crop: SIDE = 108
    size: one_of(64) = 64
    batch: BATCH = 128
    workers: WORKERS = 0
    flip: BOOL = False


class GanMain(StageTable):
    subset: STR
    lr: POSITIVE = 2e-4
    init: optional(STR) = absent()
    real_label: optional(UNIT) = absent()
    r1: optional(NON_NEGATIVE) = absent()


class GanTune(TuneTable):
    subset: STR
    lr: POSITIVE = 2e-4
    real_label: optional(UNIT) = absent()
    r1: optional(NON_NEGATIVE) = absent()


class GanRecipe(RecipeModel):
    task: Literal["gan"] = "gan"
    model: GanModelTable = Field(default_factory=GanModelTable)
    data: GanDataTable
    adversary: AdversaryTable = Field(default_factory=AdversaryTable)
    main: GanMain
    tune: Annotated[list[GanTune], Field(min_length=1)]


RECIPE = RecipeSpec(GanRecipe)
