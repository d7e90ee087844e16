"""The task registry: every task the library trains, loads and serves.

Adding a task means a folder here (its networks, model, recipe spec, training, studies)
whose ``__init__`` defines ``TASK``, and one line in :data:`TASKS`; model files, training
and recipes find it by name.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import torch
from torch import nn

from ..io.model_file import check_model_file as _check_model_file
from ..io.model_file import load_model as _load_model
from ..training.recipe import Recipe, RecipeError, read_recipe_file
from .base import AppModel, Task, TaskTraining
from .completion import TASK as COMPLETION
from .gan import TASK as GAN
from .restore import TASK as RESTORE
from .style import TASK as STYLE

TASKS: dict[str, Task] = {task.name: task for task in (STYLE, GAN, COMPLETION, RESTORE)}


def builders() -> dict:
    """Task name -> the function that rebuilds its models from a file's metadata."""
    return {name: task.build for name, task in TASKS.items()}


def get_task(name: str, where: str | Path = "recipe") -> Task:
    """The registered task called ``name``; a recipe error names the known ones otherwise."""
    if not isinstance(name, str) or name not in TASKS:
        raise RecipeError(f"{where}: 'task' must be one of {', '.join(map(repr, TASKS))}, got {name!r}")
    return TASKS[name]


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file with its task's spec (``task`` defaults to style)."""
    raw = read_recipe_file(path)
    return get_task(raw.get("task", "style"), path).recipe.parse(raw, path)


def front_end(task: Task, part: str) -> ModuleType | None:
    """A task's front end (``commands`` or ``web``), imported on first use; None if the task
    has none. The front ends import the rest of the library (studies, the trainer, this
    registry), so only the command line and the server import them."""
    name = f"{task.package}.{part}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name == name:
            return None
        raise


def check_model_file(path: str | Path) -> dict:
    """The metadata of a model file whose weights fit the network it describes (cheap)."""
    return _check_model_file(path, builders())


def load_model(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild any task's model from its file, in eval mode and fp32."""
    return _load_model(path, builders(), device)


__all__ = [
    "TASKS", "AppModel", "Task", "TaskTraining", "builders", "check_model_file", "front_end", "get_task",
    "load_model", "load_recipe",
]  # fmt: skip
