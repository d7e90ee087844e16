"""Dynamic restoration: undo a degradation, and let alpha move the result between a
faithful reconstruction (alpha 0, trained for L1) and a sharper one with invented detail.

``model(x, alpha=...)`` takes the degraded picture, RGB in [0, 1] of any size, and returns
the restored one (``scale`` times larger for super-resolution), RGB in [0, 1].
"""

from __future__ import annotations

import copy

from torch import Tensor

from ...core import AlphaLike, attach
from ...data.images import check_rgb_batch
from ...errors import DynamicNetError
from ...networks.blocks import ConvTuningBlock
from ..base import AppModel
from .degrade import Degradation, enlarge
from .network import DEFAULT_UPSAMPLE, RestoreNet, insertion_points

TASK = "restore"
ARCHITECTURE = "residual-restore"
MIN_SIDE = 2  # the network's replicate padding needs two pixels a side


class ImageTooSmallError(DynamicNetError, ValueError):
    """An image below :data:`MIN_SIDE` pixels on a side."""


def default_config(
    degradation: Degradation, width: int = 48, depth: int = 8, upsample: str = DEFAULT_UPSAMPLE
) -> dict:
    """Metadata skeleton of a restore model: the degradation it undoes and its network's size."""
    return {
        "task": TASK,
        "architecture": ARCHITECTURE,
        "width": width,
        "depth": depth,
        "upsample": upsample,
        "scale": degradation.scale,
        "degradation": degradation.to_dict(),
        "variant": "single",
        "sets": ["default"],
        "blocks": {
            name: {"at": path, "channels": channels}
            for name, (path, channels) in insertion_points(depth, width, degradation.scale, upsample).items()
        },
        "block_type": "conv3x3x3",
        "io": "rgb01 (N, 3, h, w) degraded in; rgb01 (N, 3, scale * h, scale * w) restored out",
    }


class RestoreModel(AppModel):
    """``model(x, alpha=...)``: x (N, 3, h, w) RGB in [0, 1], degraded as ``degradation`` says."""

    task = TASK

    @property
    def scale(self) -> int:
        return int(self.config["scale"])

    @property
    def degradation(self) -> Degradation:
        return Degradation.from_dict(self.config["degradation"])

    def forward(self, x: Tensor, alpha: AlphaLike = 0.0) -> Tensor:
        check_rgb_batch(x)
        inside, alpha, size = self.prepare(x.to(next(self.parameters()).dtype), alpha)
        return self.finish(self.net(inside, alpha=alpha), inside, size).to(x.dtype)

    def prepare(self, x: Tensor, alpha: AlphaLike = 0.0) -> tuple[Tensor, AlphaLike, tuple[int, int]]:
        """The network's input for ``x``, alpha, and the output size (the Renderer's contract)."""
        check_rgb_batch(x)
        h, w = x.shape[-2:]
        if min(h, w) < MIN_SIDE:
            raise ImageTooSmallError(
                f"a {w}x{h} image is too small to restore (at least {MIN_SIDE} px a side)"
            )
        return x * 2 - 1, alpha, (h * self.scale, w * self.scale)

    def finish(self, y: Tensor, inside: Tensor, size: tuple[int, int]) -> Tensor:
        """RGB in [0, 1]: the network's residual added to the classical answer (clamped here,
        so the Renderer's output is the model's)."""
        return (enlarge((inside.to(y.dtype) + 1) / 2, self.scale) + y / 2).clamp(0, 1)


def build(config: dict) -> RestoreModel:
    """A freshly initialised restore model for a metadata dict (see :func:`default_config`)."""
    if config.get("architecture") != ARCHITECTURE:
        raise ValueError(f"unsupported restore architecture {config.get('architecture')!r}")
    base = RestoreNet(
        int(config["width"]),
        int(config["depth"]),
        int(config["scale"]),
        config.get("upsample", DEFAULT_UPSAMPLE),
    )
    at = {name: (b["at"], b["channels"]) for name, b in config["blocks"].items()}
    net = attach(base, at, ConvTuningBlock, variant=config["variant"], sets=config["sets"])
    return RestoreModel(net, copy.deepcopy(config))
