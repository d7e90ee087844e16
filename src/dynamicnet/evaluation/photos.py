"""The photo the shipped models' checks and the knob experiments share: scikit-image's
astronaut (Eileen Collins, public domain), held out of every recipe's training photos.
Bundled with scikit-image, so the checks need no shared data and no download."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..extras import require


def astronaut() -> Tensor:
    """The whole photo, (1, 3, 512, 512) RGB in [0, 1]."""
    data = require("skimage.data", "studies", "the held-out check photo")
    return torch.from_numpy(data.astronaut()).permute(2, 0, 1).float().div(255).unsqueeze(0)


def held_out_photo() -> Tensor:
    """A 3:4 landscape view of it, (1, 3, 288, 384): a multiple of every restore scale."""
    x = F.interpolate(astronaut(), size=(384, 384), mode="bilinear", antialias=True)
    return x[..., 48:336, :].clamp(0, 1)
