"""The task registry: every task the library trains, loads and serves.

Adding a task means a folder here (its networks, model, recipe spec, training, studies)
whose ``__init__`` defines ``TASK``, and one line in :data:`TASKS`; model files, training
and recipes find it by name.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..io.model_file import check_model_file as _check_model_file
from ..io.model_file import load_model as _load_model
from ..training.recipe import Recipe, RecipeError, read_recipe_file
from .base import AppModel, Task, TaskTraining
from .completion import TASK as COMPLETION
from .gan import TASK as GAN
from .style import TASK as STYLE

TASKS: dict[str, Task] = {task.name: task for task in (STYLE, GAN, COMPLETION)}
BUILDERS = {name: task.build for name, task in TASKS.items()}


def get_task(name: str, where: str | Path = "recipe") -> Task:
    """The registered task called ``name``; a recipe error names the known ones otherwise."""
    if name not in TASKS:
        raise RecipeError(f"{where}: 'task' must be one of {', '.join(map(repr, TASKS))}, got {name!r}")
    return TASKS[name]


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file with its task's spec (``task`` defaults to style)."""
    raw = read_recipe_file(path)
    return get_task(raw.get("task", "style"), path).recipe.parse(raw, path)


def derive_recipe(recipe: Recipe, data: dict) -> Recipe:
    """A recipe made from another's data (a study's fixed network, a shorter run), validated
    like a file; paths stay relative to the original recipe."""
    return get_task(data.get("task", "style"), recipe.path).recipe.parse(data, recipe.path)


def check_model_file(path: str | Path) -> dict:
    """The metadata of a model file whose weights fit the network it describes (cheap)."""
    return _check_model_file(path, BUILDERS)


def load_model(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild any task's model from its file, in eval mode and fp32."""
    return _load_model(path, BUILDERS, device)


__all__ = [
    "BUILDERS", "TASKS", "AppModel", "Task", "TaskTraining", "check_model_file", "derive_recipe",
    "get_task", "load_model", "load_recipe",
]  # fmt: skip
