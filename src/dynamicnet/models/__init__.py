"""The models shipped inside the package, loadable by name.

Each ``NAME.safetensors`` here is an ordinary model file (fp16 weights) whose metadata
also carries ``name`` and ``description``; its recipe is ``recipes/NAME.toml`` and its
card ``docs/models/NAME.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..io.model_file import ModelFileError, read_metadata

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class ShippedModel:
    name: str
    task: str
    alpha_range: tuple[float, float]
    description: str
    path: Path


def _folder() -> Path:
    return Path(str(resources.files(__package__)))


def shipped_models() -> list[ShippedModel]:
    """Every shipped model, sorted by name."""
    out = []
    for path in sorted(_folder().glob("*.safetensors")):
        meta = read_metadata(path)
        low, high = meta.get("alpha_range", [0.0, 1.0])
        out.append(ShippedModel(path.stem, meta["task"], (low, high), meta.get("description", ""), path))
    return out


def is_model_name(text: str) -> bool:
    """True for a plain name such as "starry-level" (no folder, no suffix)."""
    return bool(_NAME.match(text))


def shipped_path(name: str) -> Path:
    """The file of a shipped model, or a one-line error naming the ones that exist."""
    path = _folder() / f"{name}.safetensors"
    if is_model_name(name) and path.is_file():
        return path
    names = ", ".join(m.name for m in shipped_models()) or "none"
    raise ModelFileError(f"{name}: no such model file or shipped model (shipped: {names})")


def resolve_model(spec: str | Path) -> Path:
    """A model file path as given, or the file of the shipped model named ``spec``."""
    path = Path(spec)
    if isinstance(spec, str) and not path.exists() and is_model_name(spec):
        return shipped_path(spec)
    return path


__all__ = ["ShippedModel", "is_model_name", "resolve_model", "shipped_models", "shipped_path"]
