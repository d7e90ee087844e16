"""What the generic code needs from a task, and what every task's model shares.

A task (style transfer, a GAN, image completion) is one folder under ``tasks/`` holding
its networks, model, recipe spec, training and studies; :class:`Task` is the one object
through which model files, training and the command line reach it.

A task's front ends are optional modules of its folder that the task itself never imports:
``commands`` (its command-line verbs in ``COMMANDS`` and its studies under ``dynamicnet
evaluate`` in ``STUDIES``, each a module with ``register(parsers)``) and ``web`` (its view
in the demo). The command line and the server find them through the registry
(``dynamicnet.tasks.front_end``), so they name no task and nothing imports in a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from ..core import DynamicNet
from ..errors import DynamicNetError
from ..io.model_file import load_model, read_metadata
from ..perceptual import SOURCES, load_perceptual
from ..perceptual.sources import sha256_of
from ..training.recipe import Recipe, RecipeError, RecipeSpec
from ..training.stages import Stage


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


class TaskTraining(Protocol):
    """Everything the generic trainer needs for one recipe of a task."""

    model: AppModel
    dataset: Any  # a torch Dataset, or None when every stage brings its own
    ignored: int  # files the dataset skipped (unreadable), reported before training
    perceptual_record: dict | None
    diverged_hint: str  # what to change when the loss becomes NaN, in this task's words

    def stages(self) -> list[Stage]: ...

    def metadata(self, stages: list[Stage]) -> dict: ...


@dataclass(frozen=True)
class Task:
    """One task, as the registry (``dynamicnet.tasks``) lists it."""

    name: str
    package: str  # the task's folder as a module name; its front ends are found beside it
    summary: str  # one line for listings
    build: Callable[[dict], AppModel]  # the model a file's metadata describes, fresh weights
    recipe: RecipeSpec
    training: Callable[[Recipe, torch.device, str | None], TaskTraining]  # recipe, device, --perceptual


def start_from(
    model: AppModel,
    build: Callable[[dict], AppModel],
    path: str | Path,
    recipe_path: str | Path,
    whole: bool = False,
) -> dict:
    """Copy another model file's weights into ``model`` and return what they came from (file,
    model name and SHA-256, for the new model's metadata).

    ``whole=False`` (a recipe's ``[main] init``) copies the main network only: fine-tuning,
    e.g. DNI's second network. ``whole=True`` (``[model] init``) also copies the block sets,
    which must have the same names: a new painting starts from a trained Dynamic-Net, so it
    needs a fraction of the steps. A source with one block set starts every set of a multi-set
    model (one set per painting, each from the same trained blocks); a dual model's two
    sets pull in opposite directions, so it needs a dual source. Blocks the source
    does not have keep their fresh weights.
    """
    where = f"{recipe_path}: {'[model]' if whole else '[main]'} init"
    try:
        task = read_metadata(path).get("task")
        source = load_model(path, {model.task: build}) if task == model.task else None
    except DynamicNetError as err:
        raise RecipeError(f"{where}: {err}") from err
    if source is None:
        raise RecipeError(f"{where}: {path} is a {task!r} model, not a {model.task!r} one")
    one_for_all = len(source.set_names) == 1 and model.net.variant == "multi"
    if whole and source.set_names != model.set_names and not one_for_all:
        raise RecipeError(
            f"{where}: {path} has the block sets {source.set_names}, this recipe {model.set_names}"
        )
    try:
        model.net.base.load_state_dict(source.net.base.state_dict())
        if whole:  # blocks the source lacks (a newer layout of the network) start fresh
            for set_name in model.set_names:
                blocks = source.net.blocks[source.set_names[0] if one_for_all else set_name]
                for name, block in blocks.items():
                    if name not in model.net.blocks[set_name]:
                        raise RecipeError(f"{where}: {path} has a block {name!r} this recipe's network lacks")
                    model.net.blocks[set_name][name].load_state_dict(block.state_dict())
    except RuntimeError as err:
        raise RecipeError(f"{where}: {path} has another network size than this recipe's") from err
    return {"file": Path(path).name, "name": source.config.get("name"), "sha256": sha256_of(path)}


def recipe_perceptual(recipe, override: str | None, device):
    """The recipe's perceptual network on ``device`` and its record. ``override`` (a source name
    or a path relative to the working folder) replaces the recipe's, whose paths are relative
    to the recipe."""
    spec = override
    if spec is None:
        spec = recipe.data["perceptual"]
        if spec not in SOURCES and spec != "auto":
            spec = recipe.resolve(spec)
    vgg, record = load_perceptual(spec, seed=recipe.data["seed"])
    return vgg.to(device), record
