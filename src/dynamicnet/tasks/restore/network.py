"""A compact residual restoration network that trains on a CPU.

It works at the input's resolution (EDSR-like residual blocks, no normalisation, so an
output never depends on the rest of its batch) and predicts what to add to the bicubic
enlargement (super-resolution) or to the input itself (denoising); a sub-pixel
convolution, or nearest enlargement then convolution, makes the larger picture.
Starting from the classical answer, a fresh network is already as good as bicubic, and
every step of training is an improvement.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn


def _conv(cin: int, cout: int) -> nn.Conv2d:
    # replicated borders: zero padding would make the network see a dark frame round every image
    return nn.Conv2d(cin, cout, 3, padding=1, padding_mode="replicate")


class ResidualBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1, self.act, self.conv2 = _conv(width, width), nn.ReLU(), _conv(width, width)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self.act(self.conv1(x)))


UPSAMPLERS = ("shuffle", "resize")
DEFAULT_UPSAMPLE = "shuffle"  # what a model file or recipe without the key was made with


def _factors(scale: int) -> list[int]:
    return [2, 2] if scale == 4 else [scale]


def _resize_stages(width: int, scale: int) -> OrderedDict:
    """Nearest-neighbour enlargements, each followed by a convolution at the new size: every
    output pixel comes from the same kernel, so no pattern can repeat with the scale's period."""
    stages, cin = OrderedDict(), width
    for k, factor in enumerate(_factors(scale)):
        cout = upsampler_width(width)
        stages[f"up{k}"] = nn.Upsample(scale_factor=factor, mode="nearest")
        stages[f"up{k}_conv"] = _conv(cin, cout)
        stages[f"up{k}_act"] = nn.LeakyReLU(0.2)  # cannot die as the fuse ReLU did
        cin = cout
    stages["tail"] = _conv(cin, 3)
    return stages


class RestoreNet(nn.Sequential):
    """(N, 3, h, w) in [-1, 1] to the residual (N, 3, scale * h, scale * w), in the same units.

    Sequential, so the Renderer keeps the layers before the first tuning block per image
    and renders huge images in tiles; the residual blocks carry the head's features
    through, so no long skip is needed.

    ``upsample``: "shuffle" (a sub-pixel convolution, cheap) or "resize" (nearest enlargement
    then convolution). With "shuffle", tuning blocks trained for a perceptual and
    adversarial objective drew a grid with the scale's period at alpha 1 (the frozen tail
    turns any change of the features into the same pattern in every cell).
    """

    def __init__(
        self, width: int = 48, depth: int = 8, scale: int = 4, upsample: str = DEFAULT_UPSAMPLE
    ) -> None:
        if upsample not in UPSAMPLERS:
            raise ValueError(f"upsample must be one of {', '.join(UPSAMPLERS)}, got {upsample!r}")
        layers = OrderedDict(head=_conv(3, width))
        layers.update((f"res{i}", ResidualBlock(width)) for i in range(depth))
        # no activation between fuse and what follows: a ReLU there died in training (every
        # fuse output negative, no gradient left) and left the network adding nothing to bicubic
        layers["fuse"] = _conv(width, width)
        if scale > 1 and upsample == "resize":
            layers.update(_resize_stages(width, scale))
        else:
            layers["tail"] = _conv(width, 3 * scale * scale)
            if scale > 1:
                layers["shuffle"] = nn.PixelShuffle(scale)
        super().__init__(layers)
        with torch.no_grad():  # a fresh network adds little: it starts at the classical answer
            self.tail.weight.mul_(0.1)
            self.tail.bias.zero_()


def upsampler_width(width: int) -> int:
    """The channels of the resize enlargement's convolutions."""
    return max(16, width // 2)


def insertion_points(
    depth: int, width: int, scale: int = 4, upsample: str = DEFAULT_UPSAMPLE
) -> dict[str, tuple[str, int]]:
    """Where the tuning blocks go, and their channels: after every second residual block, so
    they see every depth of the body; with the resize enlargement, one more after it, at the
    output's resolution. From the body alone, through the frozen L1-trained enlargement, the
    sharp end's invented detail came out in blotches of the scale's size (faces at alpha 1);
    a block at full resolution can draw detail a pixel wide."""
    points = {f"block{k}": (f"res{i}", width) for k, i in enumerate(range(1, depth, 2))}
    if scale > 1 and upsample == "resize":
        last = len(_factors(scale)) - 1
        points[f"block{len(points)}"] = (f"up{last}_act", upsampler_width(width))
    return points
