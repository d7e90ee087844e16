"""Recipes: TOML files that say everything a training run needs.

Paths inside a recipe are relative to the recipe file, so a recipe works from any
working directory. The recipe's hash guards ``--resume`` against a changed recipe.

This module knows no task: each task describes its recipes with a :class:`RecipeSpec`
(defaults, the schema of every key, its own checks), built from the checks below, and
``dynamicnet.tasks.load_recipe`` picks the spec by the recipe's ``task``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.tuning import RESERVED_NAMES
from ..errors import DynamicNetError
from ..io.paths import regular_file

TRAIN_DEFAULTS = {"precision": "fp32", "checkpoint_every": 100, "log_every": 10, "fp16_weights": False}


# What each key may hold: a check and a description used in error messages. Every number is
# bounded, so that an absurd value is refused here and not after minutes of work.
Check = tuple[Callable[[Any], bool], str]


def whole(low: int, high: int, description: str | None = None) -> Check:
    return (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high,
        description or f"a whole number from {low} to {high:,}",
    )


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def one_of(*options: Any) -> Check:
    return (lambda v: v in options, "one of " + ", ".join(map(repr, options)))


def optional(check: Check) -> Check:
    return (lambda v: v is None or check[0](v), check[1])


MAX_RECIPE_BYTES = 2**20
MAX_STEPS = 10**8
MAX_STEP_PIXELS = 2**28
"""batch x crop x crop at most (268 M pixels: batch 256 of 1024 px crops)."""
STEPS = whole(0, MAX_STEPS)
EVERY = whole(1, MAX_STEPS)
SEED = whole(0, 2**32 - 1)
SIDE = whole(8, 8192, "a side in pixels from 8 to 8192")
BATCH = whole(1, 4096)
WORKERS = whole(0, 64)
WIDTH = whole(1, 2048, "a channel count from 1 to 2048")
POSITIVE: Check = (lambda v: _number(v) and 0 < v <= 10, "a number in (0, 10]")
NON_NEGATIVE: Check = (lambda v: _number(v) and v >= 0, "a finite number >= 0")
UNIT: Check = (lambda v: _number(v) and 0 < v <= 1, "a number in (0, 1]")
STR: Check = (lambda v: isinstance(v, str) and v != "", "a non-empty string")
BOOL: Check = (lambda v: isinstance(v, bool), "true or false")
STR_LIST: Check = (
    lambda v: isinstance(v, list) and all(isinstance(x, str) and x for x in v),
    "a list of strings",
)
NAME: Check = (
    lambda v: isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", v),
    "a plain name",
)
IDENT: Check = (
    lambda v: isinstance(v, str) and v.isidentifier() and v not in RESERVED_NAMES,
    "an identifier",
)
TRAIN_SCHEMA = {
    "precision": one_of("fp32", "bf16"), "checkpoint_every": EVERY, "log_every": EVERY, "fp16_weights": BOOL,
}  # fmt: skip


class RecipeError(DynamicNetError, ValueError):
    """A recipe that is missing something or contradicts itself."""


@dataclass(frozen=True)
class RecipeSpec:
    """What one task's recipes may say.

    ``defaults`` fill what a recipe leaves out; ``stage_defaults`` (keys ``main`` and
    ``tune``) fill each stage table; ``schema`` holds a check for every key (``None``: the
    task parses that table itself), and a key missing from it is an error, so that a typo
    never falls back to a default; ``required`` names the keys each table must give;
    ``check(data, where)`` is the task's own consistency check, run last. The keys every
    recipe has (``name``, ``task``, ``seed``, ``[train]``) come with every spec.
    """

    task: str
    defaults: dict[str, Any]
    stage_defaults: dict[str, dict[str, Any]]
    schema: dict[str, Any]
    required: dict[str, list[str]]
    check: Callable[[dict, str], None] | None = None

    def parse(self, raw: dict, path: str | Path) -> Recipe:
        """A validated recipe from TOML content (or a derived copy of a recipe's data)."""
        defaults = {"task": self.task, "seed": 0, "train": TRAIN_DEFAULTS, **self.defaults}
        recipe = Recipe(_merge(defaults, raw), Path(path))
        self.validate(recipe.data, str(path))
        return recipe

    def validate(self, d: dict, where: str) -> None:
        every = {"name": NAME, "task": one_of(self.task), "seed": SEED, "train": TRAIN_SCHEMA}
        _check_table(d, {**every, **self.schema}, where, "")
        if "main" not in d:
            raise RecipeError(f"{where}: needs a [main] table (phase 1)")
        if not d.get("tune"):
            raise RecipeError(f"{where}: needs at least one [[tune]] table (phase 2)")
        d["main"] = {**self.stage_defaults["main"], **d["main"]}
        d["tune"] = [{**self.stage_defaults["tune"], **t} for t in d["tune"]]
        for table, keys in self.required.items():
            for entry in d[table] if isinstance(d[table], list) else [d[table]]:
                for key in keys:
                    if key not in entry:
                        raise RecipeError(f"{where}: [{table}] needs '{key}'")
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


def _merge(defaults: dict, given: dict) -> dict:
    out = copy.deepcopy(defaults)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass
class Recipe:
    """A parsed recipe: ``data`` is the TOML content merged over its task's defaults."""

    data: dict
    path: Path

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
        return self.data.get("task", "style")

    @property
    def variant(self) -> str:
        return self.data["model"]["variant"]

    @property
    def tune_sets(self) -> list[str]:
        return [t["set"] for t in self.data["tune"]]


def _check_table(value: Any, schema: Any, where: str, path: str) -> None:
    """Unknown keys and wrong types are errors: a typo must not silently fall back to a default."""
    if schema is None:
        return
    if isinstance(schema, list):
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise RecipeError(
                f"{where}: [[{path}]] must be a list of tables (write [[{path}]], not [{path}])"
            )
        for entry in value:
            _check_table(entry, schema[0], where, path)
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise RecipeError(f"{where}: '{path}' must be a table")
        for key, item in value.items():
            if key not in schema:
                known = ", ".join(schema)
                raise RecipeError(f"{where}: unknown key '{key}' in [{path or 'top level'}] (known: {known})")
            _check_table(item, schema[key], where, f"{path}.{key}" if path else key)
        return
    check, description = schema
    if not check(value):
        raise RecipeError(f"{where}: '{path}' must be {description}, got {value!r}")
