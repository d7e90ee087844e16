"""The Johnson et al. feed-forward transformer network used for fast style transfer.

Works in ImageNet-normalised space (as the official Dynamic-Net networks do) and needs
input sides that are multiples of 4; :class:`dynamicnet.tasks.style.model.StyleModel` handles
both for the public API.
"""

from __future__ import annotations

from collections import OrderedDict

import torch.nn.functional as F
from torch import Tensor, nn


def _conv(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, padding_mode="reflect")


class ConvNormReLU(nn.Module):
    """Optional nearest x2 upsampling, conv, InstanceNorm, ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, upsample: bool = False):
        super().__init__()
        self.upsample = upsample
        self.conv = _conv(cin, cout, kernel, stride)
        self.norm = nn.InstanceNorm2d(cout, affine=True)
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.act(self.norm(self.conv(x)))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = _conv(channels, channels, 3)
        self.norm1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = _conv(channels, channels, 3)
        self.norm2 = nn.InstanceNorm2d(channels, affine=True)
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        y = self.act(self.norm1(self.conv1(x)))
        return x + self.norm2(self.conv2(y))


class TransformerNet(nn.Sequential):
    """conv 9x9 -> 2 stride-2 convs -> 5 residual blocks -> 2 upsampling convs -> conv 9x9.

    A plain sequence of named layers, so renderers can split it where alpha first matters.
    """

    def __init__(self) -> None:
        super().__init__(
            OrderedDict(
                down1=ConvNormReLU(3, 32, 9),
                down2=ConvNormReLU(32, 64, 3, stride=2),
                down3=ConvNormReLU(64, 128, 3, stride=2),
                res1=ResidualBlock(128),
                res2=ResidualBlock(128),
                res3=ResidualBlock(128),
                res4=ResidualBlock(128),
                res5=ResidualBlock(128),
                up1=ConvNormReLU(128, 64, 3, upsample=True),
                up2=ConvNormReLU(64, 32, 3, upsample=True),
                out=_conv(32, 3, 9),
            )
        )


# The official 3-block insertion points: after res2, after res5 (both 128 ch at 1/4
# resolution) and after the second upsampling layer (32 ch at full resolution).
STYLE_INSERTION_POINTS = {"block0": "res2", "block1": "res5", "block2": "up2"}
