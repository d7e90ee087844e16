"""The degradations a restore model undoes, made on the fly from clean photos: a smaller
picture (bicubic, or blurred then subsampled), sensor-like Gaussian noise, JPEG blocks.

Any photo folder is a training set: each crop is degraded as it is drawn, from a seeded
generator, so a resumed run sees the same pairs. The same function makes the held-out
pairs of a study and the inputs of ``dynamicnet restore --degrade``.
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from ...data.images import pil_to_tensor, tensor_to_pil


@dataclass(frozen=True)
class Degradation:
    """``scale`` > 1 shrinks (super-resolution), then ``noise`` (sigma in 0-255 levels) and
    ``jpeg`` (a quality from 1 to 95; 0: none) follow, in the order a camera and a web
    upload apply them."""

    scale: int = 1
    blur: float = 0.0  # sigma of a Gaussian blur before subsampling; 0: bicubic (antialiased)
    noise: float = 0.0
    jpeg: int = 0

    @classmethod
    def from_dict(cls, table: dict) -> Degradation:
        return cls(**table)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def kind(self) -> str:
        return "super-resolution" if self.scale > 1 else "denoising"

    def describe(self) -> str:
        parts = []
        if self.scale > 1:
            how = f"Gaussian blur {self.blur:g} then subsampled" if self.blur else "bicubic"
            parts.append(f"x{self.scale} smaller ({how})")
        if self.noise:
            parts.append(f"Gaussian noise of sigma {self.noise:g}/255")
        if self.jpeg:
            parts.append(f"JPEG quality {self.jpeg}")
        return ", ".join(parts)

    def __call__(self, x: Tensor, rng: np.random.Generator) -> Tensor:
        """Degrade (N, 3, H, W) RGB in [0, 1]; H and W must be multiples of ``scale``."""
        y = shrink(x, self.scale, self.blur) if self.scale > 1 else x
        if self.noise:
            generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
            noise = torch.randn(y.shape, generator=generator, dtype=torch.float32).to(y.device, y.dtype)
            y = (y + noise * (self.noise / 255)).clamp(0, 1)
        if self.jpeg:
            y = torch.stack([jpeg(image, self.jpeg) for image in y]).to(y.device, y.dtype)
        return y


def shrink(x: Tensor, scale: int, blur: float = 0.0) -> Tensor:
    """``x`` made ``scale`` times smaller: bicubic with antialiasing, or a Gaussian blur of
    ``blur`` pixels followed by keeping every ``scale``-th pixel (a camera's optics and sensor)."""
    if not blur:
        return F.interpolate(x, scale_factor=1 / scale, mode="bicubic", antialias=True).clamp(0, 1)
    radius = max(1, math.ceil(3 * blur))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32, device=x.device)
    kernel = torch.exp(-(t**2) / (2 * blur**2))
    kernel = (kernel / kernel.sum()).to(x.dtype)
    c = x.shape[1]
    y = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    y = F.conv2d(y, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    y = F.conv2d(y, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return y[..., scale // 2 :: scale, scale // 2 :: scale]


def enlarge(x: Tensor, scale: int) -> Tensor:
    """Bicubic enlargement: the reference a super-resolution model has to beat, and its start."""
    if scale == 1:
        return x
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


def jpeg(image: Tensor, quality: int) -> Tensor:
    """One (3, H, W) image through a JPEG encoder at ``quality`` and back (4:2:0, as cameras)."""
    buffer = io.BytesIO()
    tensor_to_pil(image.float().cpu()).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return pil_to_tensor(decoded.convert("RGB"))
