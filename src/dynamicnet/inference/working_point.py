"""Choosing alpha per image for completion, with no ground truth.

The criterion is detail consistency: a good fill has about as much fine detail as the
known pixels around the hole. A reconstruction-trained fill is too smooth (too little
detail), an adversarially pushed one can invent too much; the alpha whose fill matches
its surroundings best is the working point. Detail is the mean absolute luminance
gradient; the surroundings are a ring of known pixels around the hole.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LUMA = (0.299, 0.587, 0.114)
DEFAULT_GRID = tuple(i / 10 for i in range(11))


def _luma_gradient(x: Tensor) -> tuple[Tensor, Tensor]:
    """|d/dx| and |d/dy| of the luminance, each padded back to the image size."""
    y = (x * x.new_tensor(LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
    gx = F.pad((y[..., :, 1:] - y[..., :, :-1]).abs(), (0, 1, 0, 0))
    gy = F.pad((y[..., 1:, :] - y[..., :-1, :]).abs(), (0, 0, 0, 1))
    return gx, gy


def ring(mask: Tensor, width: int) -> Tensor:
    """Known pixels within ``width`` pixels of the hole (square neighbourhood)."""
    grown = F.max_pool2d(mask, 2 * width + 1, stride=1, padding=width)
    return grown * (1 - mask)


def detail_gap(completed: Tensor, mask: Tensor, width: int | None = None) -> Tensor:
    """Per image, |log(detail in the hole / detail in the ring around it)|: 0 is a perfect match.

    ``width`` defaults to a quarter of the hole's mean side, at least 4 pixels.
    """
    mask = mask.float()
    if width is None:
        side = mask.flatten(1).sum(1).sqrt().mean().item()
        width = max(4, round(side / 4))
    around = ring(mask, width)
    gx, gy = _luma_gradient(completed.float())
    grad = gx + gy

    def mean_over(region: Tensor) -> Tensor:
        return (grad * region).flatten(1).sum(1) / region.flatten(1).sum(1).clamp(min=1)

    eps = 1e-4
    return ((mean_over(mask) + eps) / (mean_over(around) + eps)).log().abs()


@torch.no_grad()
def choose_alpha(
    model: nn.Module, x: Tensor, mask: Tensor, grid: Sequence[float] = DEFAULT_GRID
) -> tuple[Tensor, Tensor]:
    """The grid alpha with the smallest :func:`detail_gap` for each image, and all the gaps
    ((N,) alphas, (N, len(grid)) gaps)."""
    if mask.dim() == 3:
        mask = mask[None]
    mask = mask.expand(x.shape[0], 1, *x.shape[-2:])
    gaps = torch.stack([detail_gap(model(x, alpha=float(a), mask=mask), mask) for a in grid], dim=1)
    best = gaps.argmin(dim=1)
    return torch.tensor([float(grid[i]) for i in best]), gaps
