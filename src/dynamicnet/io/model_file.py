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
    if not hasattr(model, "config") or not hasattr(model, "alpha_range"):
        raise TypeError(
            "save() writes application models (such as dynamicnet.load or the trainer return); "
            "for a model made with attach(), save model.state_dict() with safetensors"
        )
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
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file")
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
    problem = _metadata_problem(config)
    if problem:
        raise ModelFileError(f"{path}: damaged dynamicnet metadata ({problem})")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(f"{path}: made by a newer dynamicnet (format {config['format_version']})")
    return config


def _metadata_problem(config: object) -> str | None:
    """What is wrong with the fields every model file must have, or None."""
    if not isinstance(config, dict):
        return "not a JSON object"
    if not isinstance(config.get("format_version", 0), int):
        return "format_version is not an integer"
    for key in ("task", "architecture", "variant"):
        if not isinstance(config.get(key), str):
            return f"{key} is missing or not a string"
    sets = config.get("sets")
    if not isinstance(sets, list) or not sets or not all(isinstance(x, str) for x in sets):
        return "sets is not a list of names"
    blocks = config.get("blocks")
    if not isinstance(blocks, dict) or not blocks:
        return "blocks is not a table"
    for name, block in blocks.items():
        if not isinstance(block, dict) or not isinstance(block.get("at"), str):
            return f"block {name!r} has no insertion point"
        channels = block.get("channels")
        if not isinstance(channels, int) or isinstance(channels, bool) or channels < 1:
            return f"block {name!r} has no channel count"
    alpha_range = config.get("alpha_range", [0, 1])
    if not (isinstance(alpha_range, list) and len(alpha_range) == 2):
        return "alpha_range is not [low, high]"
    return None


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
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelFileError(f"{path}: weights do not match the metadata ({first_line})") from err
    model.requires_grad_(False)  # loaded models are for inference; training sets what it trains
    return model.to(device).eval()
