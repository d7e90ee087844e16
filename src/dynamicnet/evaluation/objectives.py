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
from ..losses.perceptual import CONTENT_LAYER, StyleLoss


@dataclass
class ObjectivePoint:
    """Mean losses at one alpha: content, and style against each named objective's target."""

    alpha: AlphaLike
    content: float
    style: dict[str, float] = field(default_factory=dict)


class Scorer:
    """Scores outputs against several objectives with one perceptual pass per output.

    All criteria must share one perceptual network (the content term is then common).
    The content image's features are cached, as one photo is scored many times.
    """

    def __init__(self, criteria: Mapping[str, StyleLoss]) -> None:
        if not criteria:
            raise ValueError("give at least one objective to measure against")
        self.criteria = dict(criteria)
        self._first = next(iter(self.criteria.values()))
        self._targets: dict[int, tuple[Tensor, Tensor]] = {}

    @torch.no_grad()
    def __call__(self, output: Tensor, content: Tensor) -> dict[str, dict[str, float]]:
        """``{objective: {"loss", "content", "style"[, "tv", "color"]}}`` for one (1, 3, H, W) output."""
        cached = self._targets.get(id(content))
        if cached is None or cached[0] is not content:
            cached = (content, self._first.features(content)[CONTENT_LAYER])
            self._targets[id(content)] = cached
        feats = self._first.features(output)
        return {
            name: {k: float(v) for k, v in criterion.terms(output, feats, cached[1], content).items()}
            for name, criterion in self.criteria.items()
        }


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
    scorer = Scorer(criteria)
    renderer = Renderer(model, precision=precision)
    inputs = [photo.unsqueeze(0) for photo in photos]
    points = []
    for alpha in alphas:
        content, style = 0.0, dict.fromkeys(criteria, 0.0)
        for x in inputs:
            scores = scorer(renderer(x, alpha=alpha).clamp(0, 1), x)
            content += next(iter(scores.values()))["content"]
            for name, terms in scores.items():
                style[name] += terms["style"]
        n = len(photos)
        points.append(ObjectivePoint(alpha, content / n, {k: v / n for k, v in style.items()}))
    return points
