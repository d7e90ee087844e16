"""Recipes: TOML files that say everything a training run needs.

Paths inside a recipe are relative to the recipe file, so a recipe works from any
working directory. The recipe's hash guards ``--resume`` against a changed recipe.

Each task describes its recipes as a pydantic model (:class:`RecipeModel`, made of
:class:`Table` s) with the bounded types below, and a :class:`RecipeSpec` pairs that model
with the task's own consistency checks; ``dynamicnet.tasks.load_recipe`` picks the spec by
the recipe's ``task``. Unknown keys, wrong types and out-of-range values are one-line
errors naming the file and the key: a typo never falls back to a default. This module
knows no task.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from ..core.tuning import RESERVED_NAMES
from ..errors import DynamicNetError
from ..inference.precision import PRECISIONS
from ..io.paths import regular_file
from ..networks.discriminator import NORMS as DISCRIMINATOR_NORMS

MAX_RECIPE_BYTES = 2**20
MAX_STEPS = 10**8
MAX_STEP_PIXELS = 2**28
"""batch x crop x crop at most (268 M pixels: batch 256 of 1024 px crops)."""


class RecipeError(DynamicNetError, ValueError):
    """A recipe that is missing something or contradicts itself."""


# --- the values a key may hold: every number is bounded, so that an absurd value is refused
# here and not after minutes of work; each description is what an error message says ---------
def whole(low: int, high: int, description: str | None = None) -> Any:
    return Annotated[
        int, Field(ge=low, le=high, description=description or f"a whole number from {low} to {high:,}")
    ]


def _identifier(value: str) -> str:
    if not value.isidentifier() or value in RESERVED_NAMES:
        raise ValueError("not an identifier")
    return value


def one_of(*options: Any) -> Any:
    return Annotated[Literal[options], Field(description="one of " + ", ".join(map(repr, options)))]


def optional(kind: Any) -> Any:
    """``kind`` or nothing (TOML has no null: "nothing" is a key left out, or a default)."""
    described = next(m.description for m in typing.get_args(kind)[1:] if getattr(m, "description", None))
    return Annotated[kind | None, Field(description=described)]


STEPS = whole(0, MAX_STEPS)
EVERY = whole(1, MAX_STEPS)
SEED = whole(0, 2**32 - 1)
SIDE = whole(8, 8192, "a side in pixels from 8 to 8192")
BATCH = whole(1, 4096)
WORKERS = whole(0, 64)
WIDTH = whole(1, 2048, "a channel count from 1 to 2048")
POSITIVE = Annotated[float, Field(gt=0, le=10, allow_inf_nan=False, description="a number in (0, 10]")]
NON_NEGATIVE = Annotated[float, Field(ge=0, allow_inf_nan=False, description="a finite number >= 0")]
UNIT = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False, description="a number in (0, 1]")]
STR = Annotated[str, Field(min_length=1, description="a non-empty string")]
BOOL = Annotated[bool, Field(description="true or false")]
STR_LIST = Annotated[list[Annotated[str, Field(min_length=1)]], Field(description="a list of strings")]
NAME = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="a plain name")]
IDENT = Annotated[str, AfterValidator(_identifier), Field(description="an identifier")]


def absent(**options: Any) -> Any:
    """The default of a key that stays out of the recipe's data, and so of its hash, unless
    given: run caches and resumes are keyed by the hash, and keys added to the format later
    must not change the hash of recipes written before them."""
    return Field(None, json_schema_extra={"absent_when_unset": True}, **options)


class Table(BaseModel):
    """A table of a recipe: no unknown keys, no conversions (2.7 is not a step count)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class TrainTable(Table):
    precision: one_of(*PRECISIONS) = "fp32"
    checkpoint_every: EVERY = 100
    log_every: EVERY = 10
    fp16_weights: BOOL = False


class AdversaryTable(Table):
    """For tasks with an adversarial term: real_label < 1 is one-sided label smoothing; r1 > 0
    a gradient penalty on real images."""

    real_label: UNIT = 1.0
    r1: NON_NEGATIVE = 0.0


class PatchAdversaryTable(AdversaryTable):
    """The image-to-image tasks' patch discriminator: ``lr`` its own learning rate (absent:
    the stage's), ``norm`` "instance" to normalise its hidden layers (absent: none). Without
    either, at a block stage's rate of 1e-3, it did not tell bicubic enlargements from photos
    in 120 steps; instance-normalised at 2e-4 it scored them 0.65 against 0.21 by step 80."""

    lr: optional(POSITIVE) = absent()
    norm: optional(one_of(*DISCRIMINATOR_NORMS)) = absent()


class StageTable(Table):
    """What every ``[main]`` and ``[[tune]]`` table has; a task's stage tables add their
    objective and set their default steps and learning rate."""

    steps: STEPS = 1000
    lr: POSITIVE = 1e-3


class TuneTable(StageTable):
    set: IDENT = "default"
    # "end" trains the blocks at their set's unit alpha only (the paper); "across" at an alpha
    # drawn each step on the matching mix of the main and the set's objectives (AlphaDraws)
    alpha: optional(one_of("end", "across")) = absent()


class RecipeModel(Table):
    """The keys every recipe has. A task's recipe model adds its tables (``model`` with a
    ``variant``, ``data`` with ``crop``, ``batch`` and ``workers``: the trainer reads them)
    and gives ``main`` and ``tune`` its own stage tables."""

    name: optional(NAME) = absent()
    task: str
    seed: SEED = 0
    train: TrainTable = Field(default_factory=TrainTable)
    main: StageTable
    tune: Annotated[list[TuneTable], Field(min_length=1)]


@dataclass(frozen=True)
class RecipeSpec:
    """What one task's recipes may say: ``model`` validates them, then ``check(data, where)``,
    the task's own consistency check, runs on the validated data."""

    model: type[RecipeModel]
    check: Callable[[dict, str], None] | None = None

    @property
    def task(self) -> str:
        return self.model.model_fields["task"].default

    def parse(self, raw: dict, path: str | Path) -> Recipe:
        """A validated recipe from TOML content (or a derived copy of a recipe's data)."""
        where = str(path)
        try:
            config = self.model.model_validate({"task": self.task, **raw})
        except ValidationError as err:
            raise RecipeError(f"{where}: {_explain(err, self.model)}") from None
        recipe = Recipe(plain(config), Path(path), config, self)
        self.validate(recipe.data, where)
        return recipe

    def validate(self, d: dict, where: str) -> None:
        data = d["data"]
        if data["batch"] * data["crop"] ** 2 > MAX_STEP_PIXELS:
            raise RecipeError(
                f"{where}: [data] batch {data['batch']} of {data['crop']} px crops is "
                f"{data['batch'] * data['crop'] ** 2 / 1e6:.0f} M pixels per step; at most "
                f"{MAX_STEP_PIXELS / 1e6:.0f} M fit (use a smaller batch or crop)"
            )
        variant, sets = d["model"]["variant"], [t["set"] for t in d["tune"]]
        if len(set(sets)) != len(sets):
            raise RecipeError(f"{where}: each block set may be tuned once, got {sets}")
        if variant == "single" and sets != ["default"]:
            raise RecipeError(f"{where}: a single-variant recipe has one [[tune]] with set = 'default'")
        if variant == "dual" and sorted(sets) != ["high", "low"]:
            raise RecipeError(f"{where}: a dual recipe tunes the sets 'high' and 'low'")
        if self.check is not None:
            self.check(d, where)


def plain(table: BaseModel) -> dict:
    """A validated table as plain data: every key with its default, but the keys marked
    :func:`absent` only where the recipe gives them."""
    out = {}
    for name, field in type(table).model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("absent_when_unset") and name not in table.model_fields_set:
            continue
        out[name] = _plain_value(getattr(table, name))
    return out


def _plain_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return plain(value)
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    return value


def _explain(err: ValidationError, model: type[BaseModel]) -> str:
    """The first problem in the words of a recipe: which key, what it must be, what it got."""
    error = err.errors()[0]
    return _problem(error, model) + _which_table(error["loc"])


def _which_table(loc: tuple) -> str:
    """Which of several [[tune]] tables a problem is in (the first has no mention)."""
    for part, following in zip(loc, loc[1:]):
        if part == "tune" and isinstance(following, int) and following > 0:
            return f" (in the [[tune]] table number {following + 1})"
    return ""


def _problem(error: dict, model: type[BaseModel]) -> str:
    keys = [part for part in error["loc"] if isinstance(part, str)]
    tables, field = _walk(model, keys)
    keys = keys[: len(tables)]  # the parts that name keys (pydantic adds type tags for unions)
    path, table = ".".join(keys), ".".join(keys[:-1])
    kind = error["type"]
    if kind == "extra_forbidden":
        known = ", ".join(tables[-1].model_fields) if len(tables) > 0 else ""
        return f"unknown key '{keys[-1]}' in [{table or 'top level'}] (known: {known})"
    if kind == "missing":
        if path == "main":
            return "needs a [main] table (phase 1)"
        if path == "tune":
            return "needs at least one [[tune]] table (phase 2)"
        return f"[{table}] needs '{keys[-1]}'" if table else f"needs a [{path}] table"
    if path == "tune" and kind in ("list_type", "too_short"):
        if kind == "too_short":
            return "needs at least one [[tune]] table (phase 2)"
        return "[[tune]] must be a list of tables (write [[tune]], not [tune])"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"'{path}' must be a table"
    description = field.description if field is not None and field.description else "valid"
    return f"'{path}' must be {description}, got {error.get('input')!r}"


def _walk(model: type[BaseModel], keys: list[str]) -> tuple[list[type[BaseModel]], Any]:
    """The tables along ``keys`` (the table holding each key) and the last key's field."""
    tables: list[type[BaseModel]] = []
    field, current = None, model
    for key in keys:
        if current is None or key not in current.model_fields:
            if current is not None and len(tables) == len(keys) - 1:
                tables.append(current)  # an unknown key: its table
            break
        tables.append(current)
        field = current.model_fields[key]
        current = _table_in(field.annotation)
    return tables, field


def _table_in(annotation: Any) -> type[BaseModel] | None:
    """The table class inside ``Table``, ``list[Table]`` or ``Table | None``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _table_in(arg)
        if found is not None:
            return found
    return None


def check_objectives(d: dict, where: str) -> None:
    """For tasks whose stages name ``[objectives.NAME]`` tables: each named one exists."""
    if not isinstance(d.get("objectives"), dict) or not d["objectives"]:
        raise RecipeError(f"{where}: needs at least one [objectives.NAME] table")
    for stage in [d["main"], *d["tune"]]:
        if stage["objective"] not in d["objectives"]:
            raise RecipeError(f"{where}: objective {stage['objective']!r} is not defined under [objectives]")


def check_resize(d: dict, where: str) -> None:
    """Photos are scaled before cropping, so never below the crop."""
    data = d["data"]
    if data["resize"] is not None and data["resize"] < data["crop"]:
        raise RecipeError(f"{where}: [data] resize ({data['resize']}) must be at least crop ({data['crop']})")


def read_recipe_file(path: str | Path) -> dict:
    """The TOML content of a recipe file, refusing what cannot be one (a FIFO, a huge file)."""
    path = Path(path)
    regular_file(path, "a recipe", RecipeError)
    if path.stat().st_size > MAX_RECIPE_BYTES:
        raise RecipeError(f"{path}: over {MAX_RECIPE_BYTES // 2**10} KB; not a recipe")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise RecipeError(f"{path}: not valid TOML ({err})") from err


@dataclass
class Recipe:
    """A validated recipe: ``config`` is the task's recipe model, ``data`` the same as plain
    data (what model files record and the hash is made of)."""

    data: dict
    path: Path
    config: RecipeModel
    spec: RecipeSpec

    def derive(self, data: dict) -> Recipe:
        """A recipe made from a changed copy of this one's data (a study's fixed network, a
        shorter run), validated like a file; paths stay relative to this recipe's file."""
        return self.spec.parse(data, self.path)

    @property
    def name(self) -> str:
        return self.data.get("name") or self.path.stem

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str | Path) -> Path:
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def hash(self) -> str:
        canonical = json.dumps(self.data, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def task(self) -> str:
        return self.data["task"]

    @property
    def variant(self) -> str:
        return self.data["model"]["variant"]

    @property
    def tune_sets(self) -> list[str]:
        return [t["set"] for t in self.data["tune"]]
