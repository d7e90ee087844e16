"""Where a style model's outputs land in objective space: content and style losses per alpha.

The two terms are measured unweighted, in the perceptual network's reference units (see
:class:`dynamicnet.networks.vgg.VGG16Features`), averaged over photos, for each style
target of interest. This is the measurement behind the paper's objective-plane plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..core import AlphaLike
from ..inference import Renderer
from ..losses.perceptual import StyleLoss


@dataclass
class ObjectivePoint:
    """Mean losses at one alpha: content, and style against each named objective's target."""

    alpha: AlphaLike
    content: float
    style: dict[str, float] = field(default_factory=dict)


def measure_style_objectives(
    model: torch.nn.Module,
    photos: Sequence[Tensor],
    alphas: Sequence[AlphaLike],
    criteria: Mapping[str, StyleLoss],
    *,
    precision: str = "fp32",
) -> list[ObjectivePoint]:
    """Mean content loss and style loss (per criterion) of ``model``'s outputs at each alpha.

    ``photos`` are (3, H, W) RGB tensors in [0, 1]; ``criteria`` map objective names to
    their losses (all on the same perceptual network, so the content term is shared).
    """
    if not criteria:
        raise ValueError("give at least one objective to measure against")
    renderer = Renderer(model, precision=precision)
    first = next(iter(criteria.values()))
    points = []
    for alpha in alphas:
        content, style = 0.0, dict.fromkeys(criteria, 0.0)
        for photo in photos:
            x = photo.unsqueeze(0)
            y = renderer(x, alpha=alpha).clamp(0, 1)
            with torch.no_grad():
                content += float(first(y, x)["content"])
                for name, criterion in criteria.items():
                    style[name] += float(criterion(y, x)["style"])
        n = len(photos)
        points.append(ObjectivePoint(alpha, content / n, {k: v / n for k, v in style.items()}))
    return points
