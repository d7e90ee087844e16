"""Dynamic style transfer: a style network with tuning blocks, as a public model.

Two networks: the Johnson network of the paper (``johnson-transformer``; the official
checkpoints use it) and a network laid out for CPU speed (``fast-transformer``,
:mod:`dynamicnet.networks.fast`). The model takes RGB in [0, 1] of any size and returns
RGB of the same size, unclamped. Inside, it works like the official networks:
ImageNet-normalised space, sides padded to a multiple of 4 (reflection) and cropped back.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..core import AlphaError, AlphaLike, DynamicNet, attach, map_tensors
from ..networks.blocks import ConvTuningBlock
from ..networks.fast import FAST_BLOCK_CHANNELS, FAST_INSERTION_POINTS, FastTransformerNet
from ..networks.johnson import STYLE_INSERTION_POINTS, TransformerNet
from ..networks.vgg import ImageNetNorm
from .base import AppModel

TASK = "style"
_MIN_SIDE = 8  # the 1/4-resolution layers need at least 2 pixels for their reflection padding


@dataclass(frozen=True)
class Architecture:
    """A style network and where its tuning blocks go."""

    network: type
    points: dict[str, str]
    channels: dict[str, int]
    block_type: str  # "conv3x3xD": D convolutions per block


ARCHITECTURES = {
    "johnson-transformer": Architecture(
        TransformerNet, STYLE_INSERTION_POINTS, {"res2": 128, "res5": 128, "up2": 32}, "conv3x3x3"
    ),
    "fast-transformer": Architecture(
        FastTransformerNet, FAST_INSERTION_POINTS, FAST_BLOCK_CHANNELS, "conv3x3x2"
    ),
}
ARCHITECTURE = "johnson-transformer"  # the paper's; official checkpoints and older files use it
# the names recipes use for [model] architecture
RECIPE_ARCHITECTURES = {"johnson": "johnson-transformer", "fast": "fast-transformer"}


def default_config(
    variant: str = "single", sets: list[str] | None = None, architecture: str = ARCHITECTURE
) -> dict:
    """Metadata skeleton of a style model: the architecture's insertion points, empty blocks."""
    arch = ARCHITECTURES[architecture]
    if variant == "single":
        sets = ["default"]
    elif variant == "dual":
        sets = ["high", "low"]
    elif not sets:
        raise ValueError("a multi-set style model needs set names")
    return {
        "task": TASK,
        "architecture": architecture,
        "variant": variant,
        "sets": list(sets),
        "blocks": {name: {"at": path, "channels": arch.channels[path]} for name, path in arch.points.items()},
        "block_type": arch.block_type,
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
        self.folded = False

    @torch.no_grad()
    def fold_normalisation(self) -> None:
        """Fold the ImageNet normalisation into the first and last convolutions, in place.

        The network then takes and gives RGB in [0, 1] directly. Exact in real arithmetic
        (per-channel scaling commutes with reflection padding), not bit for bit: for the
        Renderer's bf16 path, not for the exact model.
        """
        if self.folded:
            return
        convs = [m for m in self.net.base.modules() if isinstance(m, nn.Conv2d)]
        first, last = convs[0], convs[-1]
        if first.padding_mode != "reflect" or last.padding_mode != "reflect":
            raise ValueError("only networks whose end convolutions pad by reflection can be folded")
        mean, std = self.norm.mean.view(-1), self.norm.std.view(-1)
        # first(x_norm) with x_norm = (x - mean) / std
        w = first.weight / std.view(1, -1, 1, 1)
        first.bias.sub_((w * mean.view(1, -1, 1, 1)).sum(dim=(1, 2, 3)))
        first.weight.copy_(w)
        # rgb = last(h) * std + mean
        last.weight.mul_(std.view(-1, 1, 1, 1))
        last.bias.mul_(std).add_(mean)
        self.folded = True

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

        inside = x if self.folded else self.norm(x)
        return _pad(inside, ph, pw), map_tensors(alpha, pad_map), (h, w)

    def finish(self, y: Tensor, size: tuple[int, int]) -> Tensor:
        """RGB in [0, 1] (unclamped) from the network's output."""
        y = y[..., : size[0], : size[1]]
        return y if self.folded else self.norm.inverse(y)


def build(config: dict) -> StyleModel:
    """A freshly initialised style model for a metadata dict (see :func:`default_config`)."""
    arch = ARCHITECTURES.get(config.get("architecture"))
    if arch is None:
        known = ", ".join(ARCHITECTURES)
        raise ValueError(f"unsupported style architecture {config.get('architecture')!r} (known: {known})")
    block_type = config.get("block_type", arch.block_type)
    if not (isinstance(block_type, str) and re.fullmatch(r"conv3x3x[1-9]", block_type)):
        raise ValueError(f"unsupported tuning block type {block_type!r} (known: conv3x3x1 to conv3x3x9)")
    depth = int(block_type[-1])
    at = {name: (b["at"], b["channels"]) for name, b in config["blocks"].items()}
    block = partial(ConvTuningBlock, depth=depth)
    net = attach(arch.network(), at, block, variant=config["variant"], sets=config["sets"])
    return StyleModel(net, copy.deepcopy(config))
