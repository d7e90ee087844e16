"""A style network laid out for CPU speed, with the Johnson network's interface.

Measured on a 2-core Xeon (torch 2.13, bf16, one 512 x 384 photo;
``experiments/style_render_profile.py``), the Johnson network spends most of its time in
its full-resolution layers: 9x9 convolutions on 32 channels, and the upsampling layer
that convolves 64 channels at full size. Layers at 1/4
resolution are cheap per channel. This network keeps the Johnson outline (two stride-2
convolutions, residual blocks at 1/4 resolution, two upsampling steps) and moves the
work away from full resolution:

- 16 channels at full resolution, 5x5 end convolutions instead of 9x9;
- each upsampling layer convolves at the lower resolution and then doubles the size
  (the next convolution reads the enlarged map: a resize-convolution, so no
  checkerboard as transposed convolutions give); both doublings are bilinear: with
  nearest ones, the one 3x3 convolution after each could not smooth the 2x2 blocks, and
  flat skies showed a grid of 4-8 px bricks;
- 48 channels and 5 residual blocks at 1/4 resolution.

Its output is added to its input (the style model does the addition, so the layers stay
one plain sequence for the Renderer). Instance normalisation removes each image's mean
colour in the first layer, so a network without that path cannot give back the photo's
own colours: in training, its colour term stayed near 20 units (a cast of about 45/255)
at colour weights 1 and 10 alike; with it, a light objective can stay near the photo.

Like the Johnson network it works in ImageNet-normalised space, pads every convolution
by reflection, and needs sides that are multiples of 4.
"""

from __future__ import annotations

from collections import OrderedDict

import torch.nn.functional as F
from torch import Tensor, nn

from .johnson import ConvNormReLU, ResidualBlock, _conv


class ConvNormReLUUp(nn.Module):
    """Conv, InstanceNorm, ReLU at the input's resolution, then bilinear x2 upsampling."""

    def __init__(self, cin: int, cout: int, kernel: int):
        super().__init__()
        self.conv = _conv(cin, cout, kernel)
        self.norm = nn.InstanceNorm2d(cout, affine=True)
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        y = self.act(self.norm(self.conv(x)))
        return F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)


class FastTransformerNet(nn.Sequential):
    """conv 5x5 -> 2 stride-2 convs -> 5 residual blocks -> 2 conv-then-upsample layers -> conv 5x5."""

    def __init__(self) -> None:
        full, half, quarter = 16, 32, 48
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            down1=ConvNormReLU(3, full, 5),
            down2=ConvNormReLU(full, half, 3, stride=2),
            down3=ConvNormReLU(half, quarter, 3, stride=2),
        )
        for i in range(5):
            layers[f"res{i + 1}"] = ResidualBlock(quarter)
        layers["up1"] = ConvNormReLUUp(quarter, half, 3)
        layers["up2"] = ConvNormReLUUp(half, full, 3)
        layers["out"] = _conv(full, 3, 5)
        super().__init__(layers)


# Tuning blocks at 1/4 resolution (after res2 and after the last residual block) and at
# 1/2 resolution (after up1, and after up2's normalisation): where channels are few per
# pixel, so blocks are cheap. block3 is the only one after the last instance norm: every
# change the others make to a channel's mean and contrast is normalised away there, so
# without it the blocks cannot move the picture's palette (the painting's colours).
FAST_INSERTION_POINTS = {"block0": "res2", "block1": "res5", "block2": "up1", "block3": "up2.act"}
FAST_BLOCK_CHANNELS = {"res2": 48, "res5": 48, "up1": 32, "up2.act": 16}
