"""Recipes: TOML files that say everything a training run needs.

Paths inside a recipe are relative to the recipe file, so a recipe works from any
working directory. The recipe's hash guards ``--resume`` against a changed recipe.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.tuning import RESERVED_NAMES
from ..errors import DynamicNetError
from ..io.paths import regular_file

TASKS = ("style", "gan", "completion")
TUNE_ALPHA_MODES = ("end", "across")
_TRAIN_DEFAULTS = {"precision": "fp32", "checkpoint_every": 100, "log_every": 10, "fp16_weights": False}
DEFAULTS: dict[str, dict[str, Any]] = {
    "style": {
        "task": "style",
        "seed": 0,
        "perceptual": "auto",
        # [model] architecture ("johnson") and [data] context (0) have no defaults here, so that
        # recipes written before them keep their hash (run caches and resumes are keyed by it)
        "model": {"variant": "single"},
        "data": {"crop": 128, "resize": None, "batch": 4, "workers": 0},
        "train": _TRAIN_DEFAULTS,
    },
    "gan": {  # the paper's DCGAN settings
        "task": "gan",
        "seed": 0,
        "model": {"variant": "single", "latent": 100, "ngf": 128, "ndf": 128},
        "data": {"crop": 108, "size": 64, "batch": 128, "workers": 0, "flip": False},
        # real_label < 1 is one-sided label smoothing; r1 > 0 a gradient penalty on real faces.
        # A [main] or [[tune]] table may set either for its phase alone.
        "adversary": {"real_label": 1.0, "r1": 0.0},
        "train": _TRAIN_DEFAULTS,
    },
    "completion": {
        "task": "completion",
        "seed": 0,
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
        "train": _TRAIN_DEFAULTS,
    },
}
STAGE_DEFAULTS = {
    "style": {"main": {"steps": 1000, "lr": 1e-3}, "tune": {"set": "default", "steps": 1000, "lr": 1e-4}},
    "gan": {"main": {"steps": 1000, "lr": 2e-4}, "tune": {"set": "default", "steps": 1000, "lr": 2e-4}},
    "completion": {
        "main": {"steps": 1000, "lr": 2e-4},
        "tune": {"set": "default", "steps": 1000, "lr": 1e-4},
    },
}


# What each key may hold: a check and a description used in error messages. Every number is
# bounded, so that an absurd value is refused here and not after minutes of work.
def _whole(low: int, high: int, description: str | None = None):
    return (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high,
        description or f"a whole number from {low} to {high:,}",
    )


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


MAX_RECIPE_BYTES = 2**20
MAX_STEPS = 10**8
MAX_STEP_PIXELS = 2**28
"""batch x crop x crop at most (268 M pixels: batch 256 of 1024 px crops)."""
_STEPS = _whole(0, MAX_STEPS)
_EVERY = _whole(1, MAX_STEPS)
_SEED = _whole(0, 2**32 - 1)
_SIDE = _whole(8, 8192, "a side in pixels from 8 to 8192")
_BATCH = _whole(1, 4096)
_WORKERS = _whole(0, 64)
_WIDTH = _whole(1, 2048, "a channel count from 1 to 2048")
_POSITIVE = (lambda v: _number(v) and 0 < v <= 10, "a number in (0, 10]")
_NON_NEGATIVE = (lambda v: _number(v) and v >= 0, "a finite number >= 0")
_UNIT = (lambda v: _number(v) and 0 < v <= 1, "a number in (0, 1]")
_STR = (lambda v: isinstance(v, str) and v != "", "a non-empty string")
_BOOL = (lambda v: isinstance(v, bool), "true or false")
_STR_LIST = (lambda v: isinstance(v, list) and all(isinstance(x, str) and x for x in v), "a list of strings")
_NAME = (lambda v: isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", v), "a plain name")
_IDENT = (lambda v: isinstance(v, str) and v.isidentifier() and v not in RESERVED_NAMES, "an identifier")


def _one_of(*options):
    return (lambda v: v in options, "one of " + ", ".join(map(repr, options)))


def _optional(check):
    return (lambda v: v is None or check[0](v), check[1])


_TRAIN_SCHEMA = {
    "precision": _one_of("fp32", "bf16"), "checkpoint_every": _EVERY,
    "log_every": _EVERY, "fp16_weights": _BOOL,
}  # fmt: skip
SCHEMAS: dict[str, dict[str, Any]] = {
    "style": {
        "name": _NAME,
        "task": _one_of(*TASKS),
        "seed": _SEED,
        "perceptual": _STR,
        "model": {
            "variant": _one_of("single", "dual", "multi"), "architecture": _one_of("johnson", "fast"),
            "init": _STR,
        },
        "data": {
            "photos": _STR, "crop": _SIDE, "resize": _optional(_SIDE),
            "batch": _BATCH, "workers": _WORKERS, "holdout": _STR_LIST, "context": _whole(0, 256),
        },
        "train": _TRAIN_SCHEMA,
        "objectives": None,  # checked by the task's objective parser
        "main": {"objective": _STR, "steps": _STEPS, "lr": _POSITIVE, "init": _STR},
        # alpha: "end" trains the blocks at their set's unit alpha only (the paper); "across"
        # at an alpha drawn each step on the matching mix of the main and the set's objectives.
        # No default here, so recipes written before it keep their hash.
        "tune": [{
            "set": _IDENT, "objective": _STR, "steps": _STEPS, "lr": _POSITIVE,
            "alpha": _one_of(*TUNE_ALPHA_MODES),
        }],
    },
    "gan": {
        "name": _NAME,
        "task": _one_of(*TASKS),
        "seed": _SEED,
        "model": {
            "variant": _one_of("single", "dual"), "latent": _WIDTH, "ngf": _WIDTH,
            "ndf": _WIDTH,
        },
        "data": {
            "faces": _STR, "split": _one_of("train", "val", "test"), "crop": _SIDE,
            "size": _one_of(64), "batch": _BATCH, "workers": _WORKERS, "flip": _BOOL,
        },
        "adversary": {"real_label": _UNIT, "r1": _NON_NEGATIVE},
        "train": _TRAIN_SCHEMA,
        "main": {
            "subset": _STR, "steps": _STEPS, "lr": _POSITIVE, "init": _STR, "real_label": _UNIT,
            "r1": _NON_NEGATIVE,
        },
        "tune": [{
            "set": _IDENT, "subset": _STR, "steps": _STEPS, "lr": _POSITIVE, "real_label": _UNIT,
            "r1": _NON_NEGATIVE,
        }],
    },
    "completion": {
        "name": _NAME,
        "task": _one_of(*TASKS),
        "seed": _SEED,
        "perceptual": _STR,
        "model": {"variant": _one_of("single"), "width": _WIDTH, "ndf": _WIDTH},
        "data": {
            "photos": _STR, "faces": _STR, "split": _one_of("train", "val", "test"),
            "crop": _SIDE, "resize": _optional(_SIDE), "size": _SIDE,
            "batch": _BATCH, "workers": _WORKERS, "holdout": _STR_LIST, "flip": _BOOL,
            "mask": _one_of("centre", "box", "free"), "hole": _UNIT,
        },
        "adversary": {"real_label": _UNIT, "r1": _NON_NEGATIVE},
        "train": _TRAIN_SCHEMA,
        "objectives": None,  # checked by the task's objective parser
        "main": {"objective": _STR, "steps": _STEPS, "lr": _POSITIVE, "init": _STR},
        "tune": [{"set": _IDENT, "objective": _STR, "steps": _STEPS, "lr": _POSITIVE}],
    },
}  # fmt: skip
REQUIRED = {
    "style": {"data": ["photos"], "main": ["objective"], "tune": ["objective"]},
    "gan": {"data": ["faces"], "main": ["subset"], "tune": ["subset"]},
    "completion": {"main": ["objective"], "tune": ["objective"]},
}


class RecipeError(DynamicNetError, ValueError):
    """A recipe that is missing something or contradicts itself."""


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
    """A parsed recipe: ``data`` is the TOML content merged over :data:`DEFAULTS`."""

    data: dict
    path: Path

    @classmethod
    def load(cls, path: str | Path) -> Recipe:
        path = Path(path)
        regular_file(path, "a recipe", RecipeError)
        if path.stat().st_size > MAX_RECIPE_BYTES:
            raise RecipeError(f"{path}: over {MAX_RECIPE_BYTES // 2**10} KB; not a recipe")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as err:
            raise RecipeError(f"{path}: not valid TOML ({err})") from err
        task = raw.get("task", "style")
        if task not in TASKS:
            raise RecipeError(f"{path}: 'task' must be one of {', '.join(map(repr, TASKS))}, got {task!r}")
        recipe = cls(_merge(DEFAULTS[task], raw), path)
        recipe.validate()
        return recipe

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

    def validate(self) -> None:
        where = str(self.path)
        d = self.data
        task = d.get("task", "style")
        if task not in TASKS:
            raise RecipeError(f"{where}: 'task' must be one of {', '.join(map(repr, TASKS))}, got {task!r}")
        _check_table(d, SCHEMAS[task], where, "")
        if task in ("style", "completion") and (
            not isinstance(d.get("objectives"), dict) or not d["objectives"]
        ):
            raise RecipeError(f"{where}: needs at least one [objectives.NAME] table")
        if "main" not in d:
            raise RecipeError(f"{where}: needs a [main] table (phase 1)")
        if not d.get("tune"):
            raise RecipeError(f"{where}: needs at least one [[tune]] table (phase 2)")
        d["main"] = {**STAGE_DEFAULTS[task]["main"], **d["main"]}
        d["tune"] = [{**STAGE_DEFAULTS[task]["tune"], **t} for t in d["tune"]]
        for table, keys in REQUIRED[task].items():
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
        if task == "completion" and ("photos" in data) == ("faces" in data):
            raise RecipeError(f"{where}: [data] needs either 'photos' (a folder) or 'faces' (CelebA layout)")
        if task in ("style", "completion"):
            for stage in [d["main"], *d["tune"]]:
                if stage["objective"] not in d["objectives"]:
                    raise RecipeError(
                        f"{where}: objective {stage['objective']!r} is not defined under [objectives]"
                    )
            if data["resize"] is not None and data["resize"] < data["crop"]:
                raise RecipeError(
                    f"{where}: [data] resize ({data['resize']}) must be at least crop ({data['crop']})"
                )
        variant, sets = d["model"]["variant"], self.tune_sets
        if len(set(sets)) != len(sets):
            raise RecipeError(f"{where}: each block set may be tuned once, got {sets}")
        if variant == "single" and sets != ["default"]:
            raise RecipeError(f"{where}: a single-variant recipe has one [[tune]] with set = 'default'")
        if variant == "dual" and sorted(sets) != ["high", "low"]:
            raise RecipeError(f"{where}: a dual recipe tunes the sets 'high' and 'low'")

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
