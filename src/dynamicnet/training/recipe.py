"""Recipes: TOML files that say everything a training run needs.

Paths inside a recipe are relative to the recipe file, so a recipe works from any
working directory. The recipe's hash guards ``--resume`` against a changed recipe.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DynamicNetError

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "perceptual": "auto",
    "model": {"variant": "single"},
    "data": {"crop": 128, "resize": None, "batch": 4, "workers": 0},
    "train": {"precision": "fp32", "checkpoint_every": 100, "log_every": 10, "fp16_weights": False},
}


class RecipeError(DynamicNetError, ValueError):
    """A recipe that is missing something or contradicts itself."""


def _merge(defaults: dict, given: dict) -> dict:
    out = dict(defaults)
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
        if not path.is_file():
            raise RecipeError(f"{path}: no such recipe file")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise RecipeError(f"{path}: not valid TOML ({err})") from err
        recipe = cls(_merge(DEFAULTS, raw), path)
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
        d = self.data
        where = str(self.path)
        if d.get("task", "style") != "style":
            raise RecipeError(f"{where}: unknown task {d.get('task')!r}")
        objectives = d.get("objectives", {})
        if "main" not in d or "objective" not in d["main"]:
            raise RecipeError(f"{where}: needs a [main] table with 'objective'")
        tunes = d.get("tune", [])
        if not tunes:
            raise RecipeError(f"{where}: needs at least one [[tune]] table")
        for stage in [d["main"], *tunes]:
            if stage.get("objective") not in objectives:
                raise RecipeError(
                    f"{where}: objective {stage.get('objective')!r} is not defined under [objectives]"
                )
            if int(stage.get("steps", 0)) < 0:
                raise RecipeError(f"{where}: steps must not be negative")
        variant = d["model"].get("variant", "single")
        sets = [t.get("set", "default") for t in tunes]
        if len(set(sets)) != len(sets):
            raise RecipeError(f"{where}: each block set may be tuned once, got {sets}")
        if variant == "single" and sets != ["default"]:
            raise RecipeError(f"{where}: a single-variant recipe has one [[tune]] with set = 'default'")
        if variant == "dual" and sorted(sets) != ["high", "low"]:
            raise RecipeError(f"{where}: a dual recipe tunes the sets 'high' and 'low'")
        if variant not in ("single", "dual", "multi"):
            raise RecipeError(f"{where}: variant must be single, dual or multi")
        if d["train"]["precision"] not in ("fp32", "bf16"):
            raise RecipeError(f"{where}: precision must be fp32 or bf16")

    @property
    def variant(self) -> str:
        return self.data["model"]["variant"]

    @property
    def tune_sets(self) -> list[str]:
        return [t.get("set", "default") for t in self.data["tune"]]
