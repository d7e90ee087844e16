"""Full-reference quality of a restored image, as restoration papers report it, and what a
restore model's knob does to one photo (the shipped models' check and
``experiments/restore_knob.py`` read the same figures)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .degrade import enlarge
from .working_point import fine_detail


def psnr(restored: Tensor, clean: Tensor) -> float:
    """Peak signal-to-noise ratio in dB of images in [0, 1], over all pixels and channels."""
    mse = float((restored.float().clamp(0, 1) - clean.float()).square().mean())
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


@dataclass(frozen=True)
class KnobFigures:
    """One clean photo, degraded as the model was trained and restored at equally spaced
    alphas from 0 to 1. Distances are mean absolute differences in [0, 1] units; fine
    detail is :func:`~.working_point.fine_detail` in 0-255 levels."""

    classical_psnr: float  # bicubic for super-resolution, the noisy input for denoising
    faithful_psnr: float  # alpha 0
    sharp_psnr: float  # alpha 1
    away: tuple[float, ...]  # each alpha's result vs alpha 0's
    steps: tuple[float, ...]  # each result vs its neighbour's
    faithful_error: float  # alpha 0 vs the clean photo
    detail: tuple[float, float, float]  # alpha 0, alpha 1, the clean photo

    @property
    def move(self) -> float:
        """How far alpha 1's result is from alpha 0's."""
        return self.away[-1]

    @property
    def floor(self) -> float:
        """The least move that makes the sharp end another answer rather than a rounding of
        the faithful one: half of alpha 0's own remaining error. (A fixed floor over the
        whole picture does not fit a knob whose ends share every coarse feature.)"""
        return self.faithful_error / 2

    @property
    def monotone(self) -> bool:
        """Every step of alpha moves the result further from alpha 0's."""
        return all(b > a for a, b in zip(self.away, self.away[1:]))

    @property
    def step_ratio(self) -> float:
        """The largest step over the smallest (1 when the change is spread evenly)."""
        return max(self.steps) / max(min(self.steps), 1e-12)

    @property
    def detail_restored(self) -> bool:
        """Alpha 1's fine detail is nearer the clean photo's than alpha 0's: the sharp end
        puts detail back rather than noise over it."""
        faithful, sharp, clean = self.detail
        return abs(sharp - clean) < abs(faithful - clean)

    def summary(self) -> str:
        faithful, sharp, clean = self.detail
        return (
            f"PSNR alpha 0 {self.faithful_psnr:.2f} dB, alpha 1 {self.sharp_psnr:.2f} dB, classical "
            f"{self.classical_psnr:.2f} dB; alpha 0 to 1 moves it by {self.move:.4f} (floor "
            f"{self.floor:.4f}; {'monotone' if self.monotone else 'NOT monotone'}); largest / smallest "
            f"step {self.step_ratio:.2f}; fine detail alpha 0 {faithful:.2f}, alpha 1 {sharp:.2f}, "
            f"clean {clean:.2f}"
        )


@torch.no_grad()
def knob_figures(model, clean: Tensor, points: int = 9, seed: int = 0) -> KnobFigures:
    """Degrade ``clean`` (1, 3, H, W; H and W multiples of the model's scale) with
    ``model``'s own degradation (noise drawn from ``seed``), restore it at ``points``
    alphas from 0 to 1 and measure the knob."""
    degraded = model.degradation(clean, np.random.default_rng(seed))
    outs = [model(degraded, alpha=i / (points - 1)) for i in range(points)]

    def distance(a: Tensor, b: Tensor) -> float:
        return float((a - b).abs().mean())

    return KnobFigures(
        classical_psnr=psnr(enlarge(degraded, model.scale), clean),
        faithful_psnr=psnr(outs[0], clean),
        sharp_psnr=psnr(outs[-1], clean),
        away=tuple(distance(y, outs[0]) for y in outs),
        steps=tuple(distance(b, a) for a, b in zip(outs, outs[1:])),
        faithful_error=distance(clean, outs[0]),
        detail=tuple(float(fine_detail(y)) for y in (outs[0], outs[-1], clean)),
    )
