"""Choosing alpha per image without the clean image (``dynamicnet restore --auto``).

Two no-reference criteria, each a gap to minimise over an alpha grid:

- ``consistency`` (the discrepancy principle): the degraded input minus the restored image
  degraded again without noise should be exactly the noise the degradation added: its
  standard deviation should be the recipe's sigma (0 for plain shrinking). Too smooth a
  result leaves texture in the difference, too sharp a one adds detail the input lacks.
- ``self-similar``: natural images look alike across scales, so the restored image's finest
  detail (its difference from a slightly blurred copy) should be as strong as the input's
  finest detail. Meaningless for noisy inputs, whose finest detail is noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .degrade import Degradation, shrink

DEFAULT_GRID = tuple(i / 10 for i in range(11))


def consistency_gap(restored: Tensor, degraded: Tensor, degradation: Degradation) -> Tensor:
    """Per image: |std(input - restored degraded again without noise) - sigma|, in 0-255 levels."""
    again = shrink(restored, degradation.scale, degradation.blur) if degradation.scale > 1 else restored
    residual = (degraded.float() - again.float()).flatten(1)
    return (residual.std(dim=1) * 255 - degradation.noise).abs()


def fine_detail(x: Tensor) -> Tensor:
    """Per image: mean absolute difference from a 3x3 box-blurred copy (luma), in 0-255 levels."""
    luma = (x.float() * torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)).sum(
        1, keepdim=True
    )
    blurred = F.avg_pool2d(F.pad(luma, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return (luma - blurred).abs().flatten(1).mean(1) * 255


def self_similarity_gap(restored: Tensor, degraded: Tensor, degradation: Degradation) -> Tensor:
    """Per image: |fine detail of the result - fine detail of the input|, in 0-255 levels."""
    return (fine_detail(restored) - fine_detail(degraded)).abs()


CRITERIA = {"consistency": consistency_gap, "self-similar": self_similarity_gap}


def default_criterion(degradation: Degradation) -> str:
    """Noisy or compressed inputs: consistency; plain shrinking: self-similarity."""
    return "consistency" if degradation.noise or degradation.jpeg else "self-similar"


@torch.no_grad()
def choose_alpha(
    model, degraded: Tensor, criterion: str | None = None, grid: Sequence[float] = DEFAULT_GRID, render=None
) -> tuple[Tensor, Tensor, Tensor]:
    """(the chosen alpha per image (N,), the gaps (N, len(grid)), the result at the chosen alpha,
    kept while the grid is scored so it is not rendered again). ``render(x, alpha)`` defaults
    to the model itself (pass a Renderer to reuse its cache across the grid)."""
    degradation = model.degradation
    score = CRITERIA[criterion or default_criterion(degradation)]
    render = render or (lambda x, a: model(x, alpha=a))
    gaps, best = [], None
    for a in grid:
        restored = render(degraded, a).clamp(0, 1)
        gaps.append(score(restored, degraded, degradation))
        if best is None:
            best = restored.clone()
        else:
            better = gaps[-1] < torch.stack(gaps[:-1], dim=1).min(dim=1).values
            best[better] = restored[better]
    gaps = torch.stack(gaps, dim=1)
    return torch.tensor(grid)[gaps.argmin(dim=1)], gaps, best
