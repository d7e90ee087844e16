"""Dynamic style transfer: a style network with tuning blocks, as a public model.

Two networks: the Johnson network of the paper (``johnson-transformer``; the official
checkpoints use it) and a network laid out for CPU speed (``fast-transformer``,
:mod:`dynamicnet.tasks.style.fast`). The model takes RGB in [0, 1] of any size and returns
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

from ...core import AlphaError, AlphaLike, DynamicNet, attach, map_tensors
from ...data.images import check_rgb_batch
from ...networks.blocks import ConvTuningBlock
from ...networks.vgg import ImageNetNorm
from ..base import AppModel
from .fast import FAST_BLOCK_CHANNELS, FAST_INSERTION_POINTS, FastTransformerNet
from .johnson import STYLE_INSERTION_POINTS, TransformerNet

TASK = "style"
_MIN_SIDE = 8  # the 1/4-resolution layers need at least 2 pixels for their reflection padding


@dataclass(frozen=True)
class Architecture:
    """A style network and where its tuning blocks go."""

    network: type
    points: dict[str, str]
    channels: dict[str, int]
    block_type: str  # "conv3x3xD": D convolutions per block
    residual: bool = False  # the output is added to the input (in ImageNet-normalised space)


ARCHITECTURES = {
    "johnson-transformer": Architecture(
        TransformerNet, STYLE_INSERTION_POINTS, {"res2": 128, "res5": 128, "up2": 32}, "conv3x3x3"
    ),
    "fast-transformer": Architecture(
        FastTransformerNet, FAST_INSERTION_POINTS, FAST_BLOCK_CHANNELS, "conv3x3x2", residual=True
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


def _pad_amounts(h: int, w: int, context: int = 0) -> tuple[int, int]:
    """Bottom and right padding that, after ``context`` pixels on every side, make both
    sides multiples of 4 (and at least the smallest side the network takes)."""

    def up(n: int) -> int:
        n += 2 * context
        return max(_MIN_SIDE, -(-n // 4) * 4) - n

    return up(h), up(w)


def _pad(x: Tensor, ph: int, pw: int, context: int = 0) -> Tensor:
    """``context`` pixels of mirrored image on every side, then ``ph``/``pw`` at the bottom/right."""
    for top, bottom, left, right in ((context, context, context, context), (0, ph, 0, pw)):
        if top or bottom or left or right:
            h, w = x.shape[-2:]
            mode = "reflect" if max(top, bottom) < h and max(left, right) < w else "replicate"
            x = F.pad(x, (left, right, top, bottom), mode=mode)
    return x


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
        # rgb = last(h) * std + mean; a residual network adds x_norm * std + mean = x to that
        last.weight.mul_(std.view(-1, 1, 1, 1))
        last.bias.mul_(std)
        if not self.residual:
            last.bias.add_(mean)
        self.folded = True

    @property
    def context(self) -> int:
        """Pixels of mirrored image rendered around the image and cropped off (metadata
        ``render_context``): for networks that paint a frame at their own borders, it puts
        the frame outside the picture."""
        return int(self.config.get("render_context", 0))

    @property
    def residual(self) -> bool:
        """Whether the network's output is added to its input (the fast network's layout)."""
        return ARCHITECTURES[self.config["architecture"]].residual

    def forward(self, x: Tensor, alpha: AlphaLike = 0.0) -> Tensor:
        inside, alpha, size = self.prepare(x, alpha)
        return self.finish(self.net(inside, alpha=alpha), inside, size)

    def prepare(self, x: Tensor, alpha: AlphaLike = 0.0) -> tuple[Tensor, AlphaLike, tuple[int, int]]:
        """The network's input for ``x`` (normalised, padded), alpha with its maps padded to
        match, and the size to crop back to with :meth:`finish`."""
        check_rgb_batch(x)
        h, w = x.shape[-2:]
        c = self.context
        ph, pw = _pad_amounts(h, w, c)

        def pad_map(a: Tensor) -> Tensor:
            if a.dim() != 4:
                return a
            if tuple(a.shape[-2:]) != (h, w):
                raise AlphaError(f"spatial alpha map is {tuple(a.shape[-2:])} but the image is {(h, w)}")
            return _pad(a.to(x.dtype), ph, pw, c)

        inside = x if self.folded else self.norm(x)
        return _pad(inside, ph, pw, c), map_tensors(alpha, pad_map), (h, w)

    def finish(self, y: Tensor, inside: Tensor, size: tuple[int, int]) -> Tensor:
        """RGB in [0, 1] (unclamped) from the network's output ``y`` for its input ``inside``."""
        if self.residual:
            y = y + inside.to(y.dtype)
        c = self.context
        y = y[..., c : c + size[0], c : c + size[1]]
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
