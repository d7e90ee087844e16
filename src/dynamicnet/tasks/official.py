"""Import the authors' released Dynamic-Net checkpoints (plain ``torch.save`` state dicts).

Their layout (``main.conv1.conv2d.weight``, ``tuning_blocks.tuning_block0.conv0.weight``,
``main.layer0.0.weight`` for the DCGAN, ...) is renamed to ours; the networks are the
same, so outputs match to float precision. Files are read with ``weights_only=True``:
nothing in them is executed.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import Tensor

from ..errors import DynamicNetError
from .gan import model as gan
from .style import model as style

_MAIN = {
    "conv1.conv2d": "down1.conv", "in1": "down1.norm",
    "conv2.conv2d": "down2.conv", "in2": "down2.norm",
    "conv3.conv2d": "down3.conv", "in3": "down3.norm",
    "deconv1.conv2d": "up1.conv", "in4": "up1.norm",
    "deconv2.conv2d": "up2.conv", "in5": "up2.norm",
    "deconv3.conv2d": "out",
}  # fmt: skip
_RES = re.compile(r"^res([1-5])\.(?:conv([12])\.conv2d|in([12]))$")
_BLOCK_SETS = {
    "normal": {"tuning_blocks": "default"},
    "dual": {"tuning_blocks_higher": "high", "tuning_blocks_lower": "low"},
    "dcgan": {"tuning_blocks": "default"},
}
VARIANTS = {"normal": "single", "dual": "dual", "dcgan": "single"}
_DCGAN_LAYER = re.compile(r"^layer[0-4]\.[01]$")


class OfficialImportError(DynamicNetError, ValueError):
    """A checkpoint that is not an official Dynamic-Net style network of the given variant."""


def _rename(key: str, variant: str) -> str:
    prefix, _, rest = key.partition(".")
    module, _, param = rest.rpartition(".")
    if prefix == "main" and variant == "dcgan":
        if _DCGAN_LAYER.match(module):
            return f"net.base.{module}.{param}"
    elif prefix == "main":
        if module in _MAIN:
            return f"net.base.{_MAIN[module]}.{param}"
        match = _RES.match(module)
        if match:
            index, conv, norm = match.groups()
            ours = f"conv{conv}" if conv else f"norm{norm}"
            return f"net.base.res{index}.{ours}.{param}"
    elif prefix in _BLOCK_SETS[variant]:
        block, _, conv = module.partition(".")
        if block.startswith("tuning_block") and conv in ("conv0", "conv1", "conv2"):
            name = "block" + block.removeprefix("tuning_block")
            return f"net.blocks.{_BLOCK_SETS[variant][prefix]}.{name}.{conv}.{param}"
    raise OfficialImportError(f"unexpected key {key!r} for the {variant!r} variant")


def _dcgan_model(state: dict[str, Tensor]) -> gan.GanModel:
    """The generator's size is in its first layer: (latent, 8 * ngf, 4, 4)."""
    first = state.get("main.layer0.0.weight")
    if not isinstance(first, Tensor) or first.dim() != 4 or first.shape[1] % 8:
        raise OfficialImportError("no DCGAN generator here (main.layer0.0.weight missing or misshapen)")
    return gan.build(gan.default_config(latent=first.shape[0], ngf=first.shape[1] // 8))


def convert_state_dict(state: dict[str, Tensor], variant: str) -> style.StyleModel | gan.GanModel:
    """Our model holding the weights of an official state dict."""
    if variant not in VARIANTS:
        raise OfficialImportError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    if variant == "dcgan":
        model = _dcgan_model(state)
    else:
        model = style.build(style.default_config(VARIANTS[variant]))
    expected = model.state_dict()
    renamed = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise OfficialImportError(f"key {key!r} is not a parameter name")
        counter = key.endswith("num_batches_tracked")
        if not isinstance(value, Tensor) or not (value.is_floating_point() or counter):
            raise OfficialImportError(f"entry {key!r} is not a floating-point tensor")
        ours = _rename(key, variant)
        if ours not in expected:
            raise OfficialImportError(f"unexpected key {key!r} for the {variant!r} variant")
        if tuple(value.shape) != tuple(expected[ours].shape):
            raise OfficialImportError(
                f"{key}: shape {tuple(value.shape)}, expected {tuple(expected[ours].shape)}"
            )
        renamed[ours] = value.to(expected[ours].dtype)
    for key in expected:  # older PyTorch versions saved BatchNorm without its step counter
        if key.endswith("num_batches_tracked"):
            renamed.setdefault(key, expected[key])
    missing = sorted(set(expected) - set(renamed))
    if missing:
        raise OfficialImportError(f"checkpoint lacks {len(missing)} tensors, e.g. {missing[0]!r}")
    model.load_state_dict(renamed)
    return model.eval()


def import_official(path: str | Path, variant: str) -> style.StyleModel | gan.GanModel:
    """Read an official checkpoint (``weights_only=True``) and convert it."""
    path = Path(path)
    if not path.is_file():
        raise OfficialImportError(f"{path}: no such file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - unpickling refused or damaged file
        raise OfficialImportError(f"{path}: not a readable PyTorch state dict ({err})") from err
    if not isinstance(state, dict):
        raise OfficialImportError(f"{path}: holds a {type(state).__name__}, not a state dict")
    try:
        model = convert_state_dict(state, variant)
    except OfficialImportError as err:
        raise OfficialImportError(f"{path}: {err}") from err
    model.config["name"] = path.stem
    model.config["source"] = {"official_checkpoint": path.name, "variant": variant}
    if variant != "dcgan":
        model.config["perceptual"] = {"source": "unknown (official release: ImageNet VGG16)"}
    return model
