"""Full-reference quality of a restored image, as restoration papers report it."""

from __future__ import annotations

import math

from torch import Tensor


def psnr(restored: Tensor, clean: Tensor) -> float:
    """Peak signal-to-noise ratio in dB of images in [0, 1], over all pixels and channels."""
    mse = float((restored.float().clamp(0, 1) - clean.float()).square().mean())
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)
