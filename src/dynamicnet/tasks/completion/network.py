"""An image-completion network (its patch discriminator is :mod:`dynamicnet.networks.discriminator`).

The generator follows Iizuka et al. (2017): encoder to 1/4 resolution, a middle of dilated
convolutions, decoder. We chose it over a U-Net because a U-Net's skip connections carry
the hole's fill value straight to the output, while here every output pixel of the hole
is computed from context: four dilations (2, 4, 8, 16) at 1/4 resolution see 124 pixels
of the input in every direction, enough to bridge a centred hole of half a 128 px image.
There is no normalisation layer, so a completion never depends on the other images in
its batch or on how much of the image is missing.
"""

from __future__ import annotations

from collections import OrderedDict

import torch.nn.functional as F
from torch import Tensor, nn

# Where the tuning blocks go: two in the dilated middle, one in the decoder.
COMPLETION_INSERTION_POINTS = {"block0": "dilate2", "block1": "dilate4", "block2": "decode1"}
SCALE = 4  # the encoder halves the sides twice: inputs are padded to a multiple of this


def _conv(cin: int, cout: int, kernel: int = 3, stride: int = 1, dilation: int = 1) -> nn.Module:
    padding = dilation * (kernel // 2)
    conv = nn.Conv2d(cin, cout, kernel, stride, padding=padding, dilation=dilation, padding_mode="replicate")
    return nn.Sequential(OrderedDict(conv=conv, act=nn.ELU()))


class _Upsample(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = _conv(cin, cout)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class CompletionNet(nn.Sequential):
    """(N, C, H, W) -- one or more RGB pictures in [-1, 1] (the photo with the hole set to 0, or
    classical fills of it), then the mask -- to RGB in [-1, 1].

    H and W must be multiples of :data:`SCALE`. ``width`` sets the channels (4x in the middle);
    ``inputs`` is C; ``outputs`` beyond the 3 colours are per-pixel weights of the classical fills.
    """

    def __init__(self, width: int = 32, inputs: int = 4, outputs: int = 3) -> None:
        w = width
        super().__init__(
            OrderedDict(
                encode1=_conv(inputs, w, 5),
                encode2=_conv(w, 2 * w, 3, stride=2),
                encode3=_conv(2 * w, 2 * w),
                encode4=_conv(2 * w, 4 * w, 3, stride=2),
                encode5=_conv(4 * w, 4 * w),
                dilate1=_conv(4 * w, 4 * w, dilation=2),
                dilate2=_conv(4 * w, 4 * w, dilation=4),
                dilate3=_conv(4 * w, 4 * w, dilation=8),
                dilate4=_conv(4 * w, 4 * w, dilation=16),
                middle=_conv(4 * w, 4 * w),
                up1=_Upsample(4 * w, 2 * w),
                decode1=_conv(2 * w, 2 * w),
                up2=_Upsample(2 * w, w),
                decode2=_conv(w, w // 2),
                out=nn.Conv2d(w // 2, outputs, 3, padding=1, padding_mode="replicate"),
            )
        )


def block_channels(width: int) -> dict[str, int]:
    """Channels at each insertion point for a network of ``width``."""
    return {"dilate2": 4 * width, "dilate4": 4 * width, "decode1": 2 * width}
