"""Choosing alpha per image for completion, with no ground truth.

Four criteria:

- ``ring``: hide a ring of known pixels around the hole as well, fill both, and
  measure the error on the ring, whose true pixels are known: the alpha that best restores
  what it can be checked on is taken for the hole. The ring is as wide as a quarter of the
  hole's thickness (:func:`rings`). It costs a second fill per alpha (PatchMatch runs once
  more per image, not per alpha).
- ``seam``: a good fill continues the known pixels across the hole's edge. The score is the
  mean colour step between each hole pixel on the edge and its known neighbours; the alpha
  with the smallest step is the working point. Good on brush strokes; on rectangles it
  favours smooth fills where the photo is textured.
- ``ring-detail`` (the default): ``ring``, but the fill of a wide hole (its thickest part
  :data:`WIDE_HOLE` pixels across or more, at the scale the model fills it) in texture must
  keep :data:`DETAIL_FLOOR` of the fine detail around it (a smooth patch that wide shows in
  rock or foliage, not in sky or skin); when none does, the most detailed wins. It gives up a
  little PSNR and SSIM.
- ``detail``: a good fill has as much fine detail (mean luminance gradient) as a ring of
  known pixels around the hole. On our photo models every fill stays far smoother than
  its surroundings, so this one degenerates to "the most detailed alpha".

docs/results/completion.md compares them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LUMA = (0.299, 0.587, 0.114)
DEFAULT_GRID = tuple(i / 10 for i in range(11))
DEFAULT_CRITERION = "ring-detail"  # what --auto and the demo use (docs/results/completion.md)
# ring-detail: a hole this many pixels across or more (at the working scale), in surroundings
# with at least TEXTURE_GATE of fine detail (mean luminance gradient), needs a fill with at
# least DETAIL_FLOOR of the detail around it. The width and the floor were chosen on held-out
# crops: the floor is the lowest of 0.6, 0.7, 0.8, 0.9 and 1 that leaves no soft patch on the
# sheet of textured holes of a quarter of the side (experiments/completion_quarter_holes.py; at
# 0.7 two of the ten showed one).
# The gate was chosen at that floor on crops of the training photos
# (experiments/completion_criterion_tuning.py).
WIDE_HOLE = 32
DETAIL_FLOOR = 0.8
TEXTURE_GATE = 0.05


def criterion_settings() -> dict[str, float]:
    """The settings ``ring-detail``'s scores depend on, as they are now (a study's cached
    scores made under others are made again; experiments change them to compare)."""
    return {"wide_hole": WIDE_HOLE, "detail_floor": DETAIL_FLOOR, "texture_gate": TEXTURE_GATE}


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


def half_thickness(mask: Tensor) -> Tensor:
    """Per image of ``mask`` (N, 1, H, W), how many 3x3 erosions the hole survives: about
    half the width of its thickest part (a rectangle's shorter half side; a brush stroke's).
    A hole that is the whole image (as a photo's hole can be once shrunk to the working
    scale) never erodes: it counts as the image's longer side."""
    left = mask[:, 0] > 0.5
    count = torch.zeros(mask.shape[0])
    for _ in range(max(left.shape[-2:])):
        if not bool((alive := left.flatten(1).any(1)).any()):
            break
        count += alive.float()
        # a 3x3 erosion with the outside counted as hole: a pixel stays if its row and
        # column neighbours do (boolean shifts: a pooling layer per step cost 13x more)
        rows = left.clone()
        rows[:, 1:] &= left[:, :-1]
        rows[:, :-1] &= left[:, 1:]
        left = rows.clone()
        left[:, :, 1:] &= rows[:, :, :-1]
        left[:, :, :-1] &= rows[:, :, 1:]
    return count.to(mask.device)


def rings(mask: Tensor, thickness: Tensor | None = None) -> Tensor:
    """Per image, the known pixels within half the hole's half thickness of it, at least 4
    pixels: a frame as wide as a quarter of a rectangle's shorter side, or a quarter of a
    brush stroke's width on each side. (A width from the hole's area would hide a band
    wider than the stroke itself around each stroke.) ``thickness``: :func:`half_thickness`
    of ``mask`` when the caller has it already."""
    thickness = half_thickness(mask) if thickness is None else thickness
    widths = thickness.div(2).round().clamp(min=4).int().tolist()
    return torch.cat([ring(m[None], w) for m, w in zip(mask, widths)])


def ring_scorer(
    model: nn.Module, x: Tensor, mask: Tensor, thickness: Tensor | None = None
) -> Callable[[float], Tensor]:
    """``alpha -> `` per image, the mean colour error on a ring of known pixels hidden with the
    hole: 0 is a fill that restores them exactly. The ring is found once for every alpha. An
    image whose ring would hide every pixel scores 0. ``thickness`` as for :func:`rings`."""
    mask = mask.float()
    around = rings(mask, thickness)
    nothing_left = (mask + around).flatten(1).min(1).values.view(-1, 1, 1, 1) > 0.5
    around = torch.where(nothing_left, torch.zeros_like(around), around)  # no ring for that image
    hidden = (mask + around).to(x.dtype)

    def error_at(alpha: float) -> Tensor:
        done = model(x, alpha=alpha, mask=hidden)
        error = (done.float() - x.float()).abs().mean(1, keepdim=True)
        return (error * around).flatten(1).sum(1) / around.flatten(1).sum(1).clamp(min=1)

    return error_at


def ring_error(model: nn.Module, x: Tensor, mask: Tensor, alpha: float) -> Tensor:
    """:func:`ring_scorer` at one alpha."""
    return ring_scorer(model, x, mask)(alpha)


def detail_in(image: Tensor, region: Tensor) -> Tensor:
    """Per image, the fine detail (mean luminance gradient) of ``image`` over ``region``
    (N, 1, H, W); 0 where the region is empty."""
    gx, gy = _luma_gradient(image.float())
    return ((gx + gy) * region).flatten(1).sum(1) / region.flatten(1).sum(1).clamp(min=1)


def detail_ratio(completed: Tensor, mask: Tensor, around: Tensor | None = None) -> Tensor:
    """Per image, the fine detail in the hole over that in the known pixels ``around`` it
    (default: :func:`rings`): below 1, the fill is smoother than its surroundings."""
    mask = mask.float()
    around = rings(mask) if around is None else around
    eps = 1e-4
    return (detail_in(completed, mask) + eps) / (detail_in(completed, around) + eps)


def detail_gap(completed: Tensor, mask: Tensor) -> Tensor:
    """Per image, |log :func:`detail_ratio`|: 0 is a perfect match."""
    return detail_ratio(completed, mask).log().abs()


def ring_detail_scorer(
    model: nn.Module, x: Tensor, mask: Tensor, floor: float = DETAIL_FLOOR
) -> Callable[[float], Tensor]:
    """``alpha ->`` per image, :func:`ring_scorer`'s error, except that a wide hole (its
    thickest part :data:`WIDE_HOLE` pixels across or more) in texture (the known ring around
    it has :data:`TEXTURE_GATE` of fine detail or more) whose fill has less than ``floor`` of
    the detail around it scores above every fill that has enough (1 + the shortfall; ring
    errors are below 1; :func:`short_of_detail` finds them): a smooth patch that wide shows as a patch
    in texture, whatever it does to PSNR. In smooth surroundings it does not, and the ring's
    choice stands. If no alpha gives enough detail, the most detailed one wins. The hole's
    thickness and the ring are measured once, not per alpha."""
    mask = mask.float()
    thickness = half_thickness(mask)
    ring_error_at = ring_scorer(model, x, mask, thickness)
    around = rings(mask, thickness)
    held = (2 * thickness >= WIDE_HOLE) & (detail_in(x, around) >= TEXTURE_GATE)  # wide, in texture
    held = held.to(x.device)

    def score_at(alpha: float) -> Tensor:
        error = ring_error_at(alpha)
        if not bool(held.any()):  # the others keep ring's choice: no second fill
            return error
        ratio = detail_ratio(model(x, alpha=alpha, mask=mask), mask, around).to(error.device)
        return ring_detail_score(error, ratio, held, floor)

    return score_at


def ring_detail_score(error: Tensor, ratio: Tensor, held: Tensor, floor: float = DETAIL_FLOOR) -> Tensor:
    """:func:`ring_detail_scorer`'s rule on scores already made (experiments sweep ``floor``
    offline with it): ``error`` (the ring's, below 1) where a fill keeps ``floor`` of the
    detail around its hole (``ratio``) or its hole is not ``held`` to it, else 1 + the
    shortfall."""
    return torch.where(held & (ratio < floor), 1 + floor - ratio, error)


def short_of_detail(scores: Tensor) -> Tensor:
    """Where :func:`ring_detail_score`'s ``scores`` are fills held to the floor and short of it
    (1 and above; ring errors stay below 1)."""
    return scores >= 1


def boundary_seam(completed: Tensor, mask: Tensor) -> Tensor:
    """Per image, the mean absolute colour step from hole pixels on the hole's edge to their
    known 4-neighbours: 0 is a seamless fill."""
    mask = mask.float()
    y = completed.float()
    total = y.new_zeros(y.shape[0])
    count = y.new_zeros(y.shape[0])
    for shift, dim in ((1, 2), (-1, 2), (1, 3), (-1, 3)):
        neighbour, known = torch.roll(y, shift, dim), 1 - torch.roll(mask, shift, dim)
        edge = mask * known  # a hole pixel whose neighbour this way is known
        wrapped = 0 if shift == 1 else edge.shape[dim] - 1  # rolled in from the other side
        edge = edge.index_fill(dim, torch.tensor([wrapped], device=edge.device), 0.0)
        step = (y - neighbour).abs().mean(1, keepdim=True)
        total += (step * edge).flatten(1).sum(1)
        count += edge.flatten(1).sum(1)
    return total / count.clamp(min=1)


CRITERIA = {"seam": boundary_seam, "detail": detail_gap}  # from the completed image
# (model, image, mask) -> (alpha -> score)
MODEL_CRITERIA = {"ring": ring_scorer, "ring-detail": ring_detail_scorer}
CRITERION_NAMES = (*CRITERIA, *MODEL_CRITERIA)


@torch.no_grad()
def choose_alpha(
    model: nn.Module,
    x: Tensor,
    mask: Tensor,
    grid: Sequence[float] = DEFAULT_GRID,
    criterion: str = DEFAULT_CRITERION,
) -> tuple[Tensor, Tensor]:
    """The grid alpha with the smallest ``criterion`` score for each image, and all the scores
    ((N,) alphas, (N, len(grid)) scores)."""
    if criterion not in CRITERION_NAMES:
        raise ValueError(f"unknown criterion {criterion!r} (use {', '.join(CRITERION_NAMES)})")
    if mask.dim() == 3:
        mask = mask[None]
    mask = (mask >= 0.5).to(x.dtype).expand(x.shape[0], 1, *x.shape[-2:])  # as the model reads it
    if criterion in MODEL_CRITERIA:
        score = MODEL_CRITERIA[criterion](model, x, mask)
        scores = torch.stack([score(float(a)) for a in grid], dim=1)
    else:
        score = CRITERIA[criterion]
        scores = torch.stack([score(model(x, alpha=float(a), mask=mask), mask) for a in grid], dim=1)
    best = scores.argmin(dim=1)
    return torch.tensor([float(grid[i]) for i in best]), scores
