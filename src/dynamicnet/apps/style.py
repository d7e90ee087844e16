"""Dynamic style transfer: the Johnson network with tuning blocks, as a public model.

The model takes RGB in [0, 1] of any size and returns RGB of the same size, unclamped.
Inside, it works like the official networks: ImageNet-normalised space, sides padded
to a multiple of 4 (reflection) and cropped back.
"""

from __future__ import annotations

import copy

import torch.nn.functional as F
from torch import Tensor

from ..core import AlphaError, AlphaLike, DynamicNet, attach, map_tensors
from ..networks.blocks import ConvTuningBlock
from ..networks.johnson import STYLE_INSERTION_POINTS, TransformerNet
from ..networks.vgg import ImageNetNorm
from .base import AppModel

TASK = "style"
ARCHITECTURE = "johnson-transformer"
_BLOCK_CHANNELS = {"res2": 128, "res5": 128, "up2": 32}
_MIN_SIDE = 8  # the 1/4-resolution layers need at least 2 pixels for their reflection padding


def default_config(variant: str = "single", sets: list[str] | None = None) -> dict:
    """Metadata skeleton of a style model with the official 3-block insertion points."""
    if variant == "single":
        sets = ["default"]
    elif variant == "dual":
        sets = ["high", "low"]
    elif not sets:
        raise ValueError("a multi-set style model needs set names")
    return {
        "task": TASK,
        "architecture": ARCHITECTURE,
        "variant": variant,
        "sets": list(sets),
        "blocks": {
            name: {"at": path, "channels": _BLOCK_CHANNELS[path]}
            for name, path in STYLE_INSERTION_POINTS.items()
        },
        "block_type": "conv3x3x3",
        "io": "rgb01 in, rgb01 out (imagenet-normalised inside)",
    }


def _pad_amounts(h: int, w: int) -> tuple[int, int]:
    def up(n: int) -> int:
        return max(_MIN_SIDE, -(-n // 4) * 4) - n

    return up(h), up(w)


def _pad(x: Tensor, ph: int, pw: int) -> Tensor:
    if not (ph or pw):
        return x
    h, w = x.shape[-2:]
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


class StyleModel(AppModel):
    """``model(x, alpha=...)``: x is (N, 3, H, W) RGB in [0, 1]; any H, W; same-size output."""

    task = TASK

    def __init__(self, net: DynamicNet, config: dict) -> None:
        super().__init__(net, config)
        self.norm = ImageNetNorm()

    def forward(self, x: Tensor, alpha: AlphaLike = 0.0) -> Tensor:
        inside, alpha, size = self.prepare(x, alpha)
        return self.finish(self.net(inside, alpha=alpha), size)

    def prepare(self, x: Tensor, alpha: AlphaLike = 0.0) -> tuple[Tensor, AlphaLike, tuple[int, int]]:
        """The network's input for ``x`` (normalised, padded), alpha with its maps padded to
        match, and the size to crop back to with :meth:`finish`."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected RGB images of shape (N, 3, H, W), got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise ValueError(
                f"expected floating-point RGB in [0, 1], got {x.dtype} (divide uint8 images by 255)"
            )
        h, w = x.shape[-2:]
        ph, pw = _pad_amounts(h, w)

        def pad_map(a: Tensor) -> Tensor:
            if a.dim() != 4:
                return a
            if tuple(a.shape[-2:]) != (h, w):
                raise AlphaError(f"spatial alpha map is {tuple(a.shape[-2:])} but the image is {(h, w)}")
            return _pad(a.to(x.dtype), ph, pw)

        return _pad(self.norm(x), ph, pw), map_tensors(alpha, pad_map), (h, w)

    def finish(self, y: Tensor, size: tuple[int, int]) -> Tensor:
        """RGB in [0, 1] (unclamped) from the network's output."""
        return self.norm.inverse(y[..., : size[0], : size[1]])


def build(config: dict) -> StyleModel:
    """A freshly initialised style model for a metadata dict (see :func:`default_config`)."""
    if config.get("architecture") != ARCHITECTURE:
        raise ValueError(f"unsupported style architecture {config.get('architecture')!r}")
    at = {name: (b["at"], b["channels"]) for name, b in config["blocks"].items()}
    net = attach(TransformerNet(), at, ConvTuningBlock, variant=config["variant"], sets=config["sets"])
    return StyleModel(net, copy.deepcopy(config))
