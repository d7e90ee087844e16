"""Shipping a trained model with the package (for maintainers: tools/ship_model.py)."""

from __future__ import annotations

from pathlib import Path

import torch

from ..io.model_file import save_model
from ..tasks import load_model
from . import _folder, is_model_name


def ship(model_file: str | Path, name: str, description: str, render_context: int | None = None) -> Path:
    """Copy a trained model into the package as fp16 under ``name``; ``render_context`` sets a
    style model's mirrored render context (pixels)."""
    if not is_model_name(name):
        raise ValueError(f"model names are lower-case words joined by '-', got {name!r}")
    model = load_model(model_file)
    model.config = dict(model.config, name=name, description=description)
    if render_context is not None:
        model.config["render_context"] = render_context
    return save_model(model, _folder() / f"{name}.safetensors", dtype=torch.float16)
