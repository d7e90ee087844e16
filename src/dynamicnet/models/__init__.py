"""Models loadable by name: the ones shipped inside the package, and the user's own.

Each shipped ``NAME.safetensors`` is an ordinary model file (fp16 weights) whose metadata
also carries ``name`` and ``description``; its recipe is ``recipes/NAME.toml`` and its
card ``docs/models/NAME.md``. The user's models (``dynamicnet new-style``) live in the
user's data folder (:func:`user_models_dir`), each beside its card ``NAME.md``; a shipped
name always means the shipped model.
"""

from __future__ import annotations

import os
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
    source: str = "shipped"  # or "yours": made on this machine (dynamicnet new-style)


def _folder() -> Path:
    return Path(str(resources.files(__package__)))


def home() -> Path:
    """Where dynamicnet keeps what users make: ``DYNAMICNET_HOME`` if set, else the
    platform's user data folder (``~/.local/share/dynamicnet`` on Linux)."""
    override = os.environ.get("DYNAMICNET_HOME")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("dynamicnet"))


def user_models_dir() -> Path:
    """The folder of the user's own models (it may not exist yet)."""
    return home() / "models"


def _listed(folder: Path, source: str) -> list[ShippedModel]:
    out = []
    for path in sorted(folder.glob("*.safetensors")) if folder.is_dir() else []:
        if not is_model_name(path.stem):
            continue
        try:
            meta = read_metadata(path)
        except ModelFileError:  # a damaged file among the user's models: listed by no one
            continue
        low, high = meta.get("alpha_range", [0.0, 1.0])
        description = meta.get("description", "")
        out.append(ShippedModel(path.stem, meta.get("task", "?"), (low, high), description, path, source))
    return out


def shipped_models() -> list[ShippedModel]:
    """Every shipped model, sorted by name."""
    return _listed(_folder(), "shipped")


def user_models() -> list[ShippedModel]:
    """The user's own models (:func:`user_models_dir`), sorted by name; a file named like a
    shipped model is left out, since that name loads the shipped one."""
    shipped = {m.name for m in shipped_models()}
    return [m for m in _listed(user_models_dir(), "yours") if m.name not in shipped]


def all_models() -> list[ShippedModel]:
    """Shipped models, then the user's: every model a name loads."""
    return shipped_models() + user_models()


def is_model_name(text: str) -> bool:
    """True for a plain name such as "starry-level" (no folder, no suffix)."""
    return bool(_NAME.match(text))


def shipped_path(name: str) -> Path:
    """The file of a shipped model or of the user's model ``name``, or a one-line error
    naming the ones that exist."""
    if is_model_name(name):
        for folder in (_folder(), user_models_dir()):
            path = folder / f"{name}.safetensors"
            if path.is_file():
                return path
    names = ", ".join(m.name for m in shipped_models()) or "none"
    yours = ", ".join(m.name for m in user_models())
    mine = f"; yours: {yours}" if yours else ""
    raise ModelFileError(f"{name}: no such model file or model name (shipped: {names}{mine})")


def resolve_model(spec: str | Path) -> Path:
    """A model file path as given, or the file of the shipped (or the user's) model named ``spec``."""
    path = Path(spec)
    if isinstance(spec, str) and not path.exists() and is_model_name(spec):
        return shipped_path(spec)
    return path


__all__ = [
    "ShippedModel", "all_models", "home", "is_model_name", "resolve_model", "shipped_models", "shipped_path",
    "user_models", "user_models_dir",
]  # fmt: skip
