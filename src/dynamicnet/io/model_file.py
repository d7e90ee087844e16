"""The model file: safetensors weights plus JSON metadata that says how to rebuild the model.

The metadata key ``dynamicnet`` holds a JSON object with at least ``task``,
``architecture``, ``variant``, ``sets`` and ``blocks``; training adds objectives, the
recipe, the perceptual-weights source and the alpha range. Files are written
atomically and read without unpickling anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from ..errors import DynamicNetError
from .atomic import atomic_write

FORMAT_KEY = "dynamicnet"
FORMAT_VERSION = 1


class ModelFileError(DynamicNetError, ValueError):
    """A file that is not a readable dynamicnet model."""


def save_model(model: nn.Module, path: str | Path, dtype: torch.dtype | None = None) -> Path:
    """Write ``model.state_dict()`` and ``model.config`` (plus format fields) to ``path``.

    ``dtype=torch.float16`` halves the file; floats come back as fp32 when loaded.
    """
    path = Path(path)
    config = dict(model.config)
    config["format_version"] = FORMAT_VERSION
    config["alpha_range"] = list(model.alpha_range)
    state = {}
    for key, value in model.state_dict().items():
        value = value.detach().cpu()
        if dtype is not None and value.is_floating_point():
            value = value.to(dtype)
        state[key] = value.contiguous()
    config["stored_dtype"] = str(dtype or torch.float32).removeprefix("torch.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda tmp: save_file(state, tmp, metadata={FORMAT_KEY: json.dumps(config)}))


def read_metadata(path: str | Path) -> dict:
    """The JSON metadata of a model file, without loading its weights."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelFileError(f"{path}: not a safetensors model file ({err})") from err
    if FORMAT_KEY not in meta:
        raise ModelFileError(f"{path}: a safetensors file but not a dynamicnet model (no metadata)")
    try:
        config = json.loads(meta[FORMAT_KEY])
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{path}: damaged dynamicnet metadata ({err})") from err
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(f"{path}: made by a newer dynamicnet (format {config['format_version']})")
    return config


def load_model(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from its file, in eval mode and fp32."""
    from ..apps import BUILDERS

    config = read_metadata(path)
    builder = BUILDERS.get(config.get("task"))
    if builder is None:
        raise ModelFileError(f"{path}: unknown task {config.get('task')!r}")
    try:
        model = builder(config)
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            state = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open has no __iter__
        expected = model.state_dict()
        state = {k: v.to(expected[k].dtype) if k in expected else v for k, v in state.items()}
        model.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, ValueError, SafetensorError) as err:
        raise ModelFileError(f"{path}: weights do not match the metadata ({err})") from err
    return model.to(device).eval()
