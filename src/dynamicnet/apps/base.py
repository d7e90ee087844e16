"""What every application model shares: a DynamicNet inside, metadata, and its alpha names."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from ..core import DynamicNet
from ..errors import DynamicNetError


class AppModel(nn.Module):
    """An application's public model: ``net`` is the DynamicNet, ``config`` the file metadata."""

    task = ""

    def __init__(self, net: DynamicNet, config: dict) -> None:
        super().__init__()
        self.net = net
        self.config = config

    @property
    def block_names(self) -> list[str]:
        return self.net.block_names

    @property
    def set_names(self) -> list[str]:
        return self.net.set_names

    @property
    def variant(self) -> str:
        return self.net.variant

    @property
    def alpha_range(self) -> tuple[float, float]:
        return self.net.alpha_range


def start_from(model: AppModel, path: str | Path, recipe_path: str | Path) -> None:
    """Copy another model file's main-network weights into ``model`` (a recipe's ``[main] init``:
    fine-tuning, e.g. DNI's second network)."""
    from ..io.model_file import load_model
    from ..training.recipe import RecipeError

    where = f"{recipe_path}: [main] init"
    try:
        source = load_model(path)
    except DynamicNetError as err:
        raise RecipeError(f"{where}: {err}") from err
    if getattr(source, "task", None) != model.task:
        raise RecipeError(f"{where}: {path} is a {source.task!r} model, not a {model.task!r} one")
    try:
        model.net.base.load_state_dict(source.net.base.state_dict())
    except RuntimeError as err:
        raise RecipeError(f"{where}: {path} has another network size than this recipe's") from err


def recipe_perceptual(recipe, override: str | None, device):
    """The recipe's perceptual network on ``device`` and its record. ``override`` (a source name
    or a path relative to the working folder) replaces the recipe's, whose paths are relative
    to the recipe."""
    from ..perceptual import SOURCES, load_perceptual

    spec = override
    if spec is None:
        spec = recipe.data["perceptual"]
        if spec not in SOURCES and spec != "auto":
            spec = recipe.resolve(spec)
    vgg, record = load_perceptual(spec, seed=recipe.data["seed"])
    return vgg.to(device), record
