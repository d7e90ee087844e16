"""Keeping the photo's own colours in a stylized image.

Both methods run after stylization, so every style model gets them without retraining:

- ``luminance``: the stylized image's brightness (Y of BT.601 YCbCr) with the photo's
  chroma (Cb, Cr). Strokes and texture come from the style, colours from the photo (the
  luminance-only transfer of Gatys et al., 2016).
- ``histogram``: each channel of the stylized image is remapped so that its histogram
  matches the photo's (scikit-image). The style's contrast and strokes stay; its
  palette becomes the photo's.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..extras import require

METHODS = ("luminance", "histogram")

_RGB_TO_YCC = torch.tensor(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]
)  # fmt: skip
_OFFSET = torch.tensor([0.0, 0.5, 0.5])


def rgb_to_ycbcr(x: Tensor) -> Tensor:
    """(..., 3, H, W) RGB in [0, 1] to full-range YCbCr in [0, 1]."""
    m = _RGB_TO_YCC.to(x)
    return torch.einsum("ij,...jhw->...ihw", m, x) + _OFFSET.to(x).view(3, 1, 1)


def ycbcr_to_rgb(y: Tensor) -> Tensor:
    m = torch.linalg.inv(_RGB_TO_YCC.double()).to(y)
    return torch.einsum("ij,...jhw->...ihw", m, y - _OFFSET.to(y).view(3, 1, 1))


def preserve_color(stylized: Tensor, photo: Tensor, method: str = "luminance") -> Tensor:
    """``stylized`` with ``photo``'s colours; (3, H, W) or (N, 3, H, W), RGB in [0, 1].

    A photo of another size is resized to the stylized image's first.
    """
    if method not in METHODS:
        raise ValueError(f"unknown colour method {method!r} (use {', '.join(METHODS)})")
    single = stylized.dim() == 3
    s, p = (stylized[None], photo[None]) if single else (stylized, photo)
    if p.shape[-2:] != s.shape[-2:]:
        p = F.interpolate(p.float(), size=s.shape[-2:], mode="bilinear", antialias=True, align_corners=False)
    s, p = s.float().clamp(0, 1), p.float().to(s.device)
    if method == "luminance":
        mixed = torch.cat([rgb_to_ycbcr(s)[:, :1], rgb_to_ycbcr(p)[:, 1:]], dim=1)
        out = ycbcr_to_rgb(mixed).clamp(0, 1)
    else:
        matched = [
            require("skimage.exposure", "studies", "the histogram colour method").match_histograms(
                a.permute(1, 2, 0).cpu().numpy(), b.permute(1, 2, 0).cpu().numpy(), channel_axis=-1
            )
            for a, b in zip(s, p)
        ]
        out = torch.from_numpy(np.stack(matched)).permute(0, 3, 1, 2).float().to(s.device).clamp(0, 1)
    return out[0] if single else out
