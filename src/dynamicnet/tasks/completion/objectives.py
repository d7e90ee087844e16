"""Completion's reconstruction term: the error inside the hole (the other terms are
:mod:`dynamicnet.losses.pixel`'s)."""

from __future__ import annotations

from torch import Tensor


def hole_l1(completed: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean absolute error over the missing pixels only (the rest is copied, so exact)."""
    err = ((completed.float() - target.float()).abs() * mask).sum()
    return err / (mask.sum() * completed.shape[1]).clamp(min=1)
