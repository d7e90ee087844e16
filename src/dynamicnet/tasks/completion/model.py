"""Dynamic image completion: fill a hole, and let alpha move the fill between two objectives.

``model(x, alpha=..., mask=m)`` takes RGB in [0, 1] of any size and a mask (1 = missing)
and returns the completed image: known pixels are passed through bit for bit, only the
hole comes from the network (with a ``prefill`` in its metadata, from what the network
adds to a classical fill of the hole: see :mod:`.classical`). Sides are padded to a multiple of 4
and at least 8 (edge pixels, marked known) and cropped back.
"""

from __future__ import annotations

import copy
import math
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor

from ...core import AlphaLike, attach, map_tensors
from ...data.images import check_rgb_batch
from ...data.masks import MaskError, check_mask
from ...networks.blocks import ConvTuningBlock
from ..base import AppModel
from .classical import patchmatch_fill, smooth_fill
from .network import COMPLETION_INSERTION_POINTS, SCALE, CompletionNet, block_channels

TASK = "completion"
ARCHITECTURE = "dilated-completion"
# the blocks' reflection padding needs 2 pixels at 1/4 resolution; a smaller working side is refused
MIN_SIDE = 8
_EDGE = 0.999  # the prefill's values at most this far into tanh's range (atanh(1) is infinite)
SURROUNDINGS = 4  # full-size fills are made on the hole's box widened by this many times its side


PREFILLS = {"smooth": (smooth_fill,), "patchmatch": (smooth_fill, patchmatch_fill)}
"""What a network can start from: the classical fills it sees. With several, it also weighs
them per pixel (a softmax over extra output channels) and starts from that mix."""


def default_config(width: int = 32, variant: str = "single", prefill: str | None = None) -> dict:
    """Metadata skeleton of a completion model with three blocks (two middle, one decoder).
    ``prefill`` (a key of :data:`PREFILLS`): the network starts from classical fills and adds to them."""
    channels = block_channels(width)
    config = {
        "task": TASK,
        "architecture": ARCHITECTURE,
        "width": width,
        "variant": variant,
        "sets": ["default"] if variant == "single" else ["high", "low"],
        "blocks": {
            name: {"at": path, "channels": channels[path]}
            for name, path in COMPLETION_INSERTION_POINTS.items()
        },
        "block_type": "conv3x3x3",
        "io": "rgb01 (N, 3, H, W) and mask (N, 1, H, W), 1 = missing, in; rgb01 out",
    }
    if prefill is not None:  # absent otherwise: files made before it read as they were written
        config["prefill"] = prefill
    return config


class CompletionModel(AppModel):
    """``model(x, alpha=..., mask=m)``: x (N, 3, H, W) RGB in [0, 1], m (N, 1, H, W) or (1, H, W)."""

    task = TASK

    def forward(self, x: Tensor, alpha: AlphaLike = 0.0, mask: Tensor | None = None) -> Tensor:
        inputs, mask = self.checked(x, mask)
        filled = self.fill(inputs, mask, self.knob(alpha)).to(x.dtype)
        return torch.where(mask > 0.5, filled, x)

    def checked(self, x: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        """``x`` in the network's dtype and ``mask`` as (N, 1, H, W) in it, or a clear error."""
        check_rgb_batch(x)
        if mask is None:
            raise ValueError("completion needs mask=: (N, 1, H, W) with 1 where pixels are missing")
        h, w = x.shape[-2:]
        mask = check_mask(mask.to(x.device), h, w)
        if mask.dim() == 3:
            mask = mask[None]
        if mask.shape[0] not in (1, x.shape[0]):
            raise MaskError(f"{mask.shape[0]} masks for {x.shape[0]} images (give one, or one per image)")
        dtype = next(self.parameters()).dtype  # fp16/bf16/fp64 images work too; the net runs in its own
        return x.to(dtype), mask.to(dtype).expand(x.shape[0], 1, h, w)

    def knob(self, alpha: AlphaLike) -> AlphaLike:
        """The blocks' alpha for the knob's ``alpha``: the same, or ``alpha ** knob_exponent``
        when the model file has one (sign kept).

        A fill's blocks can move it most in the knob's first steps (they first take away the
        main network's fine per-pixel choices); the exponent, measured on held-out photos
        when the model is shipped (``tools/ship_completion.py --calibrate-knob``), makes equal
        knob steps change the fill about equally.
        """
        exponent = self.config.get("knob_exponent")
        if exponent is None:
            return alpha
        return _power(alpha, float(exponent))

    def fill(self, x: Tensor, mask: Tensor, alpha: AlphaLike = 0.0) -> Tensor:
        """The network's prediction for every pixel (used inside the hole only); no checks."""
        return compose(*self.fill_parts(x, mask, alpha))

    def fill_parts(
        self, x: Tensor, mask: Tensor, alpha: AlphaLike = 0.0
    ) -> tuple[Tensor, Tensor | None, list[Tensor]]:
        """What the network adds to its classical fills, in tanh's range (N, 3, H, W), its
        per-pixel weights of them (N, fills, H, W; None with fewer than two) and the fills
        (:meth:`_starts`): :func:`compose` makes the fill of them. The first two vary slowly
        across the hole, so they can be enlarged and applied to classical fills made at a
        finer scale (:func:`complete`)."""
        h, w = x.shape[-2:]
        ph, pw = (max(MIN_SIDE, -(-n // SCALE) * SCALE) - n for n in (h, w))
        starts = self._starts(x, mask)
        inside = torch.cat([*(starts or [(x * 2 - 1) * (1 - mask)]), mask], dim=1)
        if ph or pw:
            inside = F.pad(inside, (0, pw, 0, ph), mode="replicate")
            inside[:, -1:, h:, :] = 0  # the padding is known (edge copies), not missing
            inside[:, -1:, :, w:] = 0

            def pad_map(a: Tensor) -> Tensor:  # spatial alpha maps cover the padding too
                if a.dim() != 4 or tuple(a.shape[-2:]) != (h, w):
                    return a
                return F.pad(a.to(x.dtype), (0, pw, 0, ph), mode="replicate")

            alpha = map_tensors(alpha, pad_map)
        out = self.net(inside, alpha=alpha)[..., :h, :w]
        return out[:, :3], (out[:, 3:].softmax(1) if len(starts) > 1 else None), starts

    def _starts(self, x: Tensor, mask: Tensor) -> list[Tensor]:
        """The classical fills the network starts from, in [-1, 1] (none without a prefill).

        They do not depend on alpha, and choosing alpha fills the same image and hole at
        every alpha (and, for the ring criterion, with a ring hidden too): outside training
        the last two are kept, so PatchMatch runs once per image and hole, not per alpha.
        """
        fills = PREFILLS.get(self.config.get("prefill"), ())
        if not fills:
            return []
        kept = self.__dict__.setdefault("_kept_starts", [])
        for seen_x, seen_mask, starts in kept:
            if _same(seen_x, x) and _same(seen_mask, mask):
                return starts
        starts = [fill(x, mask) * 2 - 1 for fill in fills]
        if not self.training:
            kept[:] = [(x.detach().clone(), mask.detach().clone(), starts), *kept[:1]]
        return starts


def compose(correction: Tensor, weights: Tensor | None, starts: list[Tensor]) -> Tensor:
    """The fill in [0, 1] from :meth:`CompletionModel.fill_parts` and the classical fills in
    [-1, 1] it starts from: the correction is added in tanh's range, never as a flat,
    gradient-free clamp."""
    if not starts:
        return (torch.tanh(correction) + 1) / 2
    start = starts[0] if weights is None else sum(weights[:, i : i + 1] * s for i, s in enumerate(starts))
    return (torch.tanh(correction + torch.atanh(start.clamp(-_EDGE, _EDGE))) + 1) / 2


def _power(alpha: AlphaLike, exponent: float) -> AlphaLike:
    if isinstance(alpha, Tensor):
        return alpha.sign() * alpha.abs() ** exponent
    if isinstance(alpha, dict):
        return {k: _power(v, exponent) for k, v in alpha.items()}
    if isinstance(alpha, (list, tuple)):
        return type(alpha)(_power(v, exponent) for v in alpha)
    return math.copysign(abs(float(alpha)) ** exponent, float(alpha))


def _same(a: Tensor, b: Tensor) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.device == b.device and torch.equal(a, b)


def training_side(config: dict) -> int | None:
    """The shorter side of the images the model was trained on (None if unknown)."""
    data = (config.get("recipe") or {}).get("data") or {}
    if "photos" in data:
        return data.get("resize") or data.get("crop")
    return data.get("size") if "faces" in data else None


def at_working_scale(x: Tensor, mask: Tensor, side: int | None) -> tuple[Tensor, Tensor]:
    """``x`` (N, 3, H, W) and ``mask`` (N or 1, 1, H, W) shrunk so the shorter side is ``side``
    (unchanged if already that small). A small pixel is missing if any pixel under it is."""
    h, w = x.shape[-2:]
    if side is None or min(h, w) <= side:
        return x, mask
    scale = side / min(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    small = F.interpolate(x, size=size, mode="area")
    return small, (F.interpolate(mask.to(x.dtype), size=size, mode="area") > 0).to(x.dtype)


@torch.no_grad()
def complete(
    model: CompletionModel, x: Tensor, mask: Tensor, alpha: AlphaLike = 0.0, side: int | None = -1
) -> Tensor:
    """Complete ``x`` with the network working at its training scale; the known pixels stay
    exact at any resolution.

    A completion network only knows the scale it was trained at: a photo at full resolution
    gives it a hole many times larger than any it saw. ``side`` is the shorter side to work
    at: -1 (default) for the training scale, None for full resolution. A network that starts
    from several classical fills decides at that scale how to weigh and correct them; its
    weights and correction, enlarged, are applied to the same fills made at full size, so the
    hole gets full-size texture (a fill made small and enlarged is a soft patch at 100 %).
    Any other network's fill is enlarged.
    """
    full, mask = model.checked(x, mask)
    side = _working_side(model, side)
    small, small_mask = at_working_scale(full, mask, side)
    if small is full:
        return model(x, alpha=alpha, mask=mask)
    correction, weights, starts = model.fill_parts(small, small_mask, model.knob(alpha))
    size = x.shape[-2:]
    if weights is None:  # enlarged with the known pixels around it, which smooths the seam
        filled = torch.where(small_mask > 0.5, compose(correction, weights, starts), small)
        filled = F.interpolate(filled, size=size, mode="bicubic", align_corners=False).clamp(0, 1)
        return torch.where(mask > 0.5, filled.to(x.dtype), x)
    enlarge = partial(F.interpolate, size=size, mode="bilinear", align_corners=False)
    correction, weights, out = enlarge(correction), enlarge(weights), x.clone()
    for i in range(x.shape[0]):  # image by image: each fill depends on its own image and hole alone
        around = (i, *_around_hole(mask[i]))  # the classical fills need only the hole's surroundings
        starts = model._starts(full[around][None], mask[around][None])
        filled = compose(correction[around][None], weights[around][None], starts)[0]
        out[around] = torch.where(mask[around] > 0.5, filled.to(x.dtype), x[around])
    return out


def _working_side(model: CompletionModel, side: int | None) -> int | None:
    if side == -1:
        return training_side(model.config)
    if side is not None and side < MIN_SIDE:
        raise ValueError(
            f"side {side}: -1 (the training scale), None (full resolution) "
            f"or a side of {MIN_SIDE} pixels or more"
        )
    return side


@torch.no_grad()
def auto_alpha(
    model: CompletionModel, x: Tensor, mask: Tensor, side: int | None = -1, criterion: str | None = None
) -> tuple[Tensor, Tensor]:
    """:func:`~dynamicnet.inference.working_point.choose_alpha` where :func:`complete` runs
    the network (``side`` as there): each image's alpha and every alpha's score."""
    from ...inference.working_point import DEFAULT_CRITERION, choose_alpha

    full, mask = model.checked(x, mask)
    small, small_mask = at_working_scale(full, mask, _working_side(model, side))
    if bool((small_mask > 0.5).flatten(1).all(1).any()):
        raise MaskError(
            f"at {min(small.shape[-2:])} px on the shorter side, where the model works, the hole leaves "
            "no pixel known to judge a fill by: choose an alpha, or work at full size"
        )
    return choose_alpha(model, small, small_mask, criterion=criterion or DEFAULT_CRITERION)


def _around_hole(mask: Tensor) -> tuple[slice, ...]:
    """The index of the box around the hole of one image's ``mask`` (1, H, W), widened on
    each side by :data:`SURROUNDINGS` times the box's longer side: PatchMatch finds its
    patches there and the smooth fill its colours, at a fraction of the cost of the whole
    photo when the hole is small. (Widened by twice its side, boxes of a quarter of the side
    in full-size held-out photos filled worse: ``python experiments/completion_full_size.py
    photo-fill --surroundings 2``, docs/results/completion.md.)"""
    hole = (mask > 0.5).flatten(0, -3).any(0)
    rows, cols = hole.any(1).nonzero()[:, 0], hole.any(0).nonzero()[:, 0]
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    margin = SURROUNDINGS * max(bottom - top, right - left)
    h, w = hole.shape
    return (
        *(slice(None),) * (mask.dim() - 2),
        slice(max(0, top - margin), min(h, bottom + margin)),
        slice(max(0, left - margin), min(w, right + margin)),
    )


def build(config: dict) -> CompletionModel:
    """A freshly initialised completion model for a metadata dict (see :func:`default_config`)."""
    if config.get("architecture") != ARCHITECTURE:
        raise ValueError(f"unsupported completion architecture {config.get('architecture')!r}")
    if config.get("prefill") not in (None, *PREFILLS):
        raise ValueError(f"unsupported completion prefill {config.get('prefill')!r}")
    at = {name: (b["at"], b["channels"]) for name, b in config["blocks"].items()}
    fills = len(PREFILLS.get(config.get("prefill"), ()))
    weights = fills if fills > 1 else 0  # per-pixel weights of the classical fills
    base = CompletionNet(int(config["width"]), inputs=3 * max(1, fills) + 1, outputs=3 + weights)
    if fills:  # a fresh network adds little to the colours: it starts close to the classical fill
        with torch.no_grad():  # not nothing: a zero layer would starve the ones before it of gradient,
            base.out.weight[:3].mul_(0.1)  # and Adam would turn their tiny gradients into full-size steps
            base.out.bias.zero_()  # the weights keep their usual scale: the blocks move them
    net = attach(
        base,
        at,
        ConvTuningBlock,
        variant=config["variant"],
        sets=config["sets"],
    )
    return CompletionModel(net, copy.deepcopy(config))
