"""What a user sees of a style model, in numbers: frames at the borders, and how far the knob moves.

Both are measured on rendered 8-bit-range images (outputs clamped to [0, 1]) and given
in steps of 1/255, the unit a user's eye and image viewer work in.

- **Border figure**: the mean absolute difference, over the outer ``band`` pixels, between
  a render of the photo and a render of the same photo with ``context`` pixels of
  mirrored photo around it (cropped back). A network that paints a frame at its own
  borders shows it here; one that renders its borders as it renders the inside does not.
  A heavy texture can also shift its strokes with the context, near the borders and
  further in alike: the same difference over a band 32-64 px inside tells the two apart
  (a frame is high at the edge and low inside; shifted strokes are high in both).
- **Knob span**: renders across the alpha range; the distance of each from the photo
  and from the render at the low end. The span is the distance between the two ends;
  the knob is monotone when every step moves the picture further from the low end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..core import AlphaLike

Render = Callable[[Tensor, AlphaLike], Tensor]  # (3, H, W) RGB in [0, 1] -> same
INNER_BAND = (32, 64)  # pixels from the edge: where a frame has faded and strokes still shift


def level_distance(a: Tensor, b: Tensor) -> float:
    """Mean absolute difference of two images clamped to [0, 1], in steps of 1/255."""
    return float((a.clamp(0, 1) - b.clamp(0, 1)).abs().mean()) * 255


def border_figure(
    render: Render,
    photo: Tensor,
    alpha: AlphaLike,
    context: int = 64,
    band: int = 4,
    plain: Tensor | None = None,
) -> float:
    """Mean difference (1/255) of the outer ``band`` pixels between a render and a render
    with ``context`` pixels of mirrored photo around it; ``plain`` is the render of
    ``photo`` at ``alpha`` when the caller has it already."""
    return border_bands(render, photo, alpha, context, ((0, band),), plain)[0]


def border_bands(
    render: Render,
    photo: Tensor,
    alpha: AlphaLike,
    context: int = 64,
    bands: Sequence[tuple[int, int]] = ((0, 4), INNER_BAND),
    plain: Tensor | None = None,
) -> list[float]:
    """The difference of :func:`border_figure` over each band of pixels ``(start, stop)``
    from the image's edge, from one pair of renders."""
    if photo.dim() != 3:
        raise ValueError(f"expected one (3, H, W) photo, got {tuple(photo.shape)}")
    h, w = photo.shape[-2:]
    deepest = max(stop for _, stop in bands)
    if min(h, w) <= max(context, 2 * deepest):
        raise ValueError(
            f"the photo ({w}x{h}) must be larger than the context ({context} px) and twice the "
            f"deepest band ({deepest} px) on both sides"
        )
    if plain is None:
        plain = render(photo, alpha)
    padded = F.pad(photo.unsqueeze(0), (context,) * 4, mode="reflect")[0]
    framed = render(padded, alpha)[:, context : context + h, context : context + w]
    diff = (plain.clamp(0, 1) - framed.clamp(0, 1)).abs().mean(0)
    figures = []
    for start, stop in bands:
        ring = torch.zeros(h, w, dtype=torch.bool)
        ring[start : h - start, start : w - start] = True
        ring[stop : h - stop, stop : w - stop] = False
        figures.append(float(diff[ring].mean()) * 255)
    return figures


@dataclass(frozen=True)
class KnobSpan:
    """Distances (1/255) along the knob for one photo; ``alphas`` in increasing order."""

    alphas: tuple[float, ...]
    from_photo: tuple[float, ...]  # each render vs the photo
    from_low: tuple[float, ...]  # each render vs the render at alphas[0]

    @property
    def span(self) -> float:
        """How far the two ends of the knob are apart."""
        return self.from_low[-1]

    @property
    def monotone(self) -> bool:
        """Every step moves the picture further from the low end."""
        return all(b > a for a, b in zip(self.from_low, self.from_low[1:]))

    @property
    def largest_step_share(self) -> float:
        """The largest step between neighbouring renders as a share of all steps together
        (1 / number of steps when the change is spread evenly)."""
        return max(self.steps) / max(sum(self.steps), 1e-12)

    @property
    def steps(self) -> tuple[float, ...]:
        return tuple(b - a for a, b in zip(self.from_low, self.from_low[1:]))

    @classmethod
    def of(cls, photo: Tensor, alphas: Sequence[float], images: Sequence[Tensor]) -> KnobSpan:
        """The distances for renders ``images`` of ``photo`` at ``alphas`` (increasing)."""
        return cls(
            alphas=tuple(alphas),
            from_photo=tuple(level_distance(y, photo) for y in images),
            from_low=tuple(level_distance(y, images[0]) for y in images),
        )


def _alpha_steps(alphas: Sequence[float]) -> tuple[float, ...]:
    alphas = tuple(sorted(float(a) for a in alphas))
    if len(alphas) < 2:
        raise ValueError("a knob span needs at least two alphas")
    return alphas


def knob_span(render: Render, photo: Tensor, alphas: Sequence[float]) -> KnobSpan:
    """Render ``photo`` at each alpha (sorted) and measure the distances of :class:`KnobSpan`."""
    alphas = _alpha_steps(alphas)
    return KnobSpan.of(photo, alphas, [render(photo, a) for a in alphas])


@dataclass(frozen=True)
class VisibleFigures:
    """A style model's border and knob figures over several photos (means over photos)."""

    alphas: tuple[float, ...]
    span: float  # the two ends of the knob apart
    low_from_photo: float  # the low end vs the photo
    high_from_photo: float
    monotone: bool  # on every photo
    largest_step_share: float  # worst photo
    border: float  # mean over photos and alphas
    worst_border: float  # worst photo and alpha
    worst_border_inside: float  # the same render pair, over the band INNER_BAND px inside

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def measure_visible(
    render: Render, photos: Sequence[Tensor], alpha_range: tuple[float, float], steps: int = 8
) -> VisibleFigures:
    """Knob span over ``steps`` equal alpha steps on ``photos``, and the border figure at
    every other of those alphas (reusing the knob's renders)."""
    lo, hi = alpha_range
    alphas = _alpha_steps([lo + (hi - lo) * i / steps for i in range(steps + 1)])
    knobs, borders = [], []
    for photo in photos:
        images = [render(photo, a) for a in alphas]
        knobs.append(KnobSpan.of(photo, alphas, images))
        borders += [border_bands(render, photo, a, plain=y) for a, y in list(zip(alphas, images))[::2]]
    n = len(knobs)
    worst_edge, worst_inside = max(borders)
    return VisibleFigures(
        alphas=tuple(alphas),
        span=sum(k.span for k in knobs) / n,
        low_from_photo=sum(k.from_photo[0] for k in knobs) / n,
        high_from_photo=sum(k.from_photo[-1] for k in knobs) / n,
        monotone=all(k.monotone for k in knobs),
        largest_step_share=max(k.largest_step_share for k in knobs),
        border=sum(edge for edge, _ in borders) / len(borders),
        worst_border=worst_edge,
        worst_border_inside=worst_inside,
    )


__all__ = [
    "KnobSpan", "VisibleFigures", "border_bands", "border_figure", "knob_span", "level_distance",
    "measure_visible",
]  # fmt: skip
