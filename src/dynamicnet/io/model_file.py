"""The model file: safetensors weights plus JSON metadata that says how to rebuild the model.

The metadata key ``dynamicnet`` holds a JSON object with at least ``task``,
``architecture``, ``variant``, ``sets`` and ``blocks``; training adds objectives, the
recipe, the perceptual-weights source and the alpha range. Files are written
atomically and read without unpickling anything.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from ..errors import DynamicNetError, one_line, printable
from .atomic import atomic_write
from .paths import regular_file

FORMAT_KEY = "dynamicnet"
FORMAT_VERSION = 1
MAX_SETS = 64
MAX_BLOCKS = 256
MAX_CHANNELS = 4096


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
    """The JSON metadata of a model file, without loading its weights; every field the file
    must have is checked (see :func:`_metadata_problem`)."""
    path = Path(path)
    name = printable(path)
    if not path.exists():
        raise ModelFileError(f"{name}: no such model file")
    regular_file(path, "a model file", ModelFileError)
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelFileError(f"{name}: not a safetensors model file ({one_line(str(err))})") from None
    if FORMAT_KEY not in meta:
        raise ModelFileError(f"{name}: a safetensors file but not a dynamicnet model (no metadata)")
    try:
        config = json.loads(meta[FORMAT_KEY])
    except (json.JSONDecodeError, RecursionError) as err:
        raise ModelFileError(f"{name}: damaged dynamicnet metadata ({one_line(str(err))[:100]})") from None
    problem = _metadata_problem(config)
    if problem:
        raise ModelFileError(f"{name}: damaged dynamicnet metadata ({problem})")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(f"{name}: made by a newer dynamicnet (format {config['format_version']})")
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
    for key in ("name", "description", "stored_dtype"):
        if key in config and not isinstance(config[key], str):
            return f"{key} is not a string"
    sets = config.get("sets")
    if not isinstance(sets, list) or not 0 < len(sets) <= MAX_SETS or not all(_plain_name(x) for x in sets):
        return f"sets is not a list of 1 to {MAX_SETS} names"
    blocks = config.get("blocks")
    if not isinstance(blocks, dict) or not 0 < len(blocks) <= MAX_BLOCKS:
        return f"blocks is not a table of 1 to {MAX_BLOCKS} blocks"
    for name, block in blocks.items():
        if not _plain_name(name):
            return f"a block has the name {printable(name)[:40]!r}"
        if not isinstance(block, dict) or not _plain_name(block.get("at"), dots=True):
            return f"block {name!r} has no insertion point"
        channels = block.get("channels")
        if not isinstance(channels, int) or isinstance(channels, bool) or not 0 < channels <= MAX_CHANNELS:
            return f"block {name!r} has no channel count from 1 to {MAX_CHANNELS}"
    alpha_range = config.get("alpha_range", [0, 1])
    if not (
        isinstance(alpha_range, list)
        and len(alpha_range) == 2
        and all(
            isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a) for a in alpha_range
        )
        and alpha_range[0] < alpha_range[1]
    ):
        return "alpha_range is not [low, high], two numbers"
    return None


def _plain_name(value: object, dots: bool = False) -> bool:
    """A name as the code makes them: letters, digits, underscores (and dots in module paths)."""
    pattern = r"[A-Za-z_][A-Za-z0-9_]*" + (r"(\.[A-Za-z0-9_]+)*" if dots else "")
    return isinstance(value, str) and len(value) <= 200 and re.fullmatch(pattern, value) is not None


Builders = Mapping[str, Callable[[dict], nn.Module]]
"""Task name -> the model its metadata describes (``dynamicnet.tasks.builders()``)."""


def check_model_file(path: str | Path, builders: Builders) -> dict:
    """The metadata of a model file whose weights match the network it describes; raises
    :class:`ModelFileError` otherwise. Cheap: nothing is allocated for the weights.

    The network is built on PyTorch's meta device (shapes, no memory) and its weights'
    names and shapes compared with the file's header, so a crafted file (a huge channel
    count, reshaped weights, a block where none fits) gets a one-line error first.
    """
    config = read_metadata(path)
    name = printable(path)
    builder = builders.get(config.get("task"))
    if builder is None:
        raise ModelFileError(f"{name}: unknown task {printable(config.get('task'))[:40]!r}")
    try:
        with torch.device("meta"):
            expected = {k: tuple(v.shape) for k, v in builder(config).state_dict().items()}
    except Exception as err:  # noqa: BLE001 - any failure to build from the metadata means bad metadata
        raise ModelFileError(
            f"{name}: metadata describes no network this version builds ({_reason(err)})"
        ) from None
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            stored = {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelFileError(f"{name}: not a readable safetensors file ({_reason(err)})") from None
    for key in sorted(expected.keys() | stored.keys()):
        if expected.get(key) != stored.get(key):
            what = "missing" if key not in stored else "unexpected" if key not in expected else "wrong shape"
            raise ModelFileError(
                f"{name}: weights do not match the metadata ({what}: {printable(key)[:80]} "
                f"{stored.get(key, '')} vs {expected.get(key, '')})"
            )
    return config


def load_model(path: str | Path, builders: Builders, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from its file (checked by :func:`check_model_file`), in eval mode and
    fp32; its weights must be finite."""
    config = check_model_file(path, builders)
    name = printable(path)
    try:
        model = builders[config["task"]](config)
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            state = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open has no __iter__
        reference = model.state_dict()
        state = {k: v.to(reference[k].dtype) for k, v in state.items()}
        model.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, ValueError, TypeError, SafetensorError) as err:
        raise ModelFileError(f"{name}: weights do not match the metadata ({_reason(err)})") from None
    # numpy: one quick pass per tensor, without torch's per-op thread start-up
    broken = next((k for k, v in state.items() if not np.isfinite(v.numpy()).all()), None)
    if broken is not None:
        raise ModelFileError(f"{name}: damaged weights ({printable(broken)[:80]} holds NaN or infinity)")
    model.requires_grad_(False)  # loaded models are for inference; training sets what it trains
    return model.to(device).eval()


def _reason(err: BaseException) -> str:
    return (one_line(str(err)) or type(err).__name__)[:200]
