"""The fills a user would pick instead, scored beside the Dynamic-Net on the same holes.

Our own classical fill (:func:`~.classical.smooth_fill`) is always there; OpenCV's Telea
and Navier-Stokes fills join when OpenCV is installed (the ``[studies]`` extra brings it;
inference never needs it), PatchMatch and the mean of the smooth and PatchMatch fills (a
``prefill = "patchmatch"`` network's start) when PatchMatch's library loads.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from .classical import PatchMatchUnavailable, patchmatch_fill, patchmatch_module, smooth_fill

Fill = Callable[[Tensor, Tensor], Tensor]  # (N, 3, H, W) in [0, 1] and (N, 1, H, W) holes -> filled


def _per_image(fill_one: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Fill:
    """A fill of 8-bit pictures made into one of tensor batches."""

    def fill(x: Tensor, mask: Tensor) -> Tensor:
        out = []
        for image, hole in zip(x, mask):
            pixels = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            missing = (hole[0].numpy() > 0.5).astype(np.uint8)
            out.append(torch.from_numpy(np.ascontiguousarray(fill_one(pixels, missing))).permute(2, 0, 1))
        done = torch.stack(out).float() / 255
        return torch.where(mask > 0.5, done, x)  # known pixels exact, as the Dynamic-Net keeps them

    return fill


def _available(module: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def classical_fills(seed: int = 0) -> dict[str, Fill]:
    """Name -> fill, for every classical fill installed here."""
    fills: dict[str, Fill] = {"smooth fill (ours)": lambda x, mask: smooth_fill(x, mask)}
    cv2 = _available("cv2")
    if cv2 is not None:  # radius 5: OpenCV's examples use 3, which leaves streaks in larger holes
        fills["OpenCV Telea"] = _per_image(lambda p, m: cv2.inpaint(p, m * 255, 5, cv2.INPAINT_TELEA))
        fills["OpenCV Navier-Stokes"] = _per_image(lambda p, m: cv2.inpaint(p, m * 255, 5, cv2.INPAINT_NS))
    try:
        patchmatch_module()
    except PatchMatchUnavailable:
        return fills
    fills["PatchMatch"] = lambda x, mask: patchmatch_fill(x, mask, seed)
    # where a "patchmatch"-prefilled network starts: what it adds is the rest of its score
    fills["mean of smooth and PatchMatch"] = lambda x, mask: (
        (smooth_fill(x, mask) + patchmatch_fill(x, mask, seed)) / 2
    )
    return fills
