"""Dynamic-Net: train a network for one objective, add tuning blocks for a second, and move
between them at test time with one knob, alpha."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .core import AlphaError, DynamicNet, attach
from .errors import DynamicNetError
from .inference import Renderer
from .io.model_file import ModelFileError, read_metadata, save_model
from .tasks import load_model

__version__ = "0.1.0"


def load(model: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Load a shipped model by name (``dynamicnet models`` lists them) or a model file
    (``.safetensors`` written by dynamicnet), in eval mode, fp32."""
    from .models import resolve_model

    return load_model(resolve_model(model), device=device)


save = save_model

__all__ = [
    "AlphaError",
    "DynamicNet",
    "DynamicNetError",
    "ModelFileError",
    "Renderer",
    "attach",
    "load",
    "read_metadata",
    "save",
    "__version__",
]
