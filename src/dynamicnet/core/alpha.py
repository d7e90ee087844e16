"""Turn the many user-facing forms of alpha into one coefficient per (block set, block).

A coefficient is a Python float or a tensor of shape (), (N,) or (N, 1, H, W).
Zero coefficients are dropped here, so a block whose coefficient is zero is never run:
that is what makes ``alpha = 0`` the base model bit for bit.

While tracing (``torch.jit.is_tracing()``, as the ONNX export does) alpha tensors are
graph inputs, not values: every tensor coefficient is kept, so every block stays in the
graph, and checks that read tensor values or sizes are skipped instead of being baked in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Union

import torch
from torch import Tensor

from ..errors import DynamicNetError

Coefficient = Union[float, Tensor]
AlphaLike = Union[Real, Tensor, Sequence["AlphaLike"], Mapping[str, "AlphaLike"]]

VARIANTS = ("single", "dual", "multi")
MAX_ALPHA = 1000.0  # models are trained on [0, 1] or [-1, 1]; this far out, outputs are noise or overflow


class AlphaError(DynamicNetError, ValueError):
    """An alpha value that does not fit the model (wrong length, unknown name, bad shape)."""


def _check_leaf(value: object, where: str) -> Coefficient:
    if isinstance(value, bool):
        raise AlphaError(f"{where}: alpha must be a number or a tensor, got {value!r}")
    if isinstance(value, Real):
        value = float(value)
        if not math.isfinite(value):
            raise AlphaError(f"{where}: alpha must be finite, got {value}")
        if abs(value) > MAX_ALPHA:
            raise AlphaError(f"{where}: alpha must lie within +-{MAX_ALPHA:g}, got {value:g}")
        return value
    if isinstance(value, Tensor):
        if not (value.is_floating_point() or value.dtype in (torch.int32, torch.int64)):
            raise AlphaError(f"{where}: alpha tensor has dtype {value.dtype}")
        if not (value.dim() in (0, 1) or (value.dim() == 4 and value.shape[1] == 1)):
            raise AlphaError(
                f"{where}: alpha tensor must have shape (), (N,) or (N, 1, H, W), got {tuple(value.shape)}"
            )
        value = value if value.is_floating_point() else value.float()
        if not torch.jit.is_tracing() and not bool(torch.isfinite(value).all()):
            raise AlphaError(f"{where}: alpha tensor has non-finite values")
        if not torch.jit.is_tracing() and value.numel() and float(value.abs().max()) > MAX_ALPHA:
            raise AlphaError(f"{where}: alpha values must lie within +-{MAX_ALPHA:g}")
        return value
    raise AlphaError(f"{where}: alpha must be a number, tensor, list or dict, got {type(value)}")


def per_block(alpha: AlphaLike, blocks: Sequence[str], where: str = "alpha") -> dict[str, Coefficient]:
    """Spread one alpha over blocks: a leaf applies to all, a sequence goes in block order,
    a mapping goes by block name (blocks it does not name get 0)."""
    if isinstance(alpha, Mapping):
        unknown = [k for k in alpha if k not in blocks]
        if unknown:
            raise AlphaError(
                f"{where}: unknown block {unknown[0]!r}; this model's blocks are {', '.join(blocks)}"
            )
        return {b: _check_leaf(alpha.get(b, 0.0), f"{where}[{b!r}]") for b in blocks}
    if isinstance(alpha, (list, tuple)):
        if len(alpha) != len(blocks):
            raise AlphaError(
                f"{where}: got {len(alpha)} per-block values but the model has "
                f"{len(blocks)} blocks ({', '.join(blocks)})"
            )
        return {b: _check_leaf(a, f"{where}[{i}]") for i, (b, a) in enumerate(zip(blocks, alpha))}
    leaf = _check_leaf(alpha, where)
    return dict.fromkeys(blocks, leaf)


def _is_zero(c: Coefficient) -> bool:
    if isinstance(c, Tensor):
        return not torch.jit.is_tracing() and not bool(torch.any(c))
    return c == 0.0


def _positive_part(c: Coefficient) -> Coefficient:
    return c.clamp(min=0) if isinstance(c, Tensor) else max(c, 0.0)


def resolve(
    alpha: AlphaLike, *, variant: str, sets: Sequence[str], blocks: Sequence[str]
) -> dict[str, dict[str, Coefficient]]:
    """Coefficients per set and block, with zeros left out.

    - ``single``: one set; alpha is a leaf, per-block list or per-block dict.
    - ``dual``: sets ``high`` and ``low`` on one signed axis; ``high`` gets max(alpha, 0)
      and ``low`` gets max(-alpha, 0), element-wise for tensors.
    - ``multi``: K named sets whose contributions add; alpha is a dict by set name
      (each value any single-set form) or one value applied to every set.
    """
    if variant not in VARIANTS:
        raise AlphaError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    if variant == "dual":
        axis = per_block(alpha, blocks)
        spread = {
            "high": {b: _positive_part(c) for b, c in axis.items()},
            "low": {b: _positive_part(-c) for b, c in axis.items()},
        }
    elif variant == "multi" and isinstance(alpha, Mapping) and set(alpha) - set(blocks):
        unknown = [k for k in alpha if k not in sets]
        if unknown:
            raise AlphaError(
                f"alpha: unknown block set {unknown[0]!r}; this model's sets are {', '.join(sets)}"
            )
        spread = {s: per_block(alpha.get(s, 0.0), blocks, f"alpha[{s!r}]") for s in sets}
    else:
        one = per_block(alpha, blocks)
        spread = {s: dict(one) for s in sets}
    return {s: {b: c for b, c in coefs.items() if not _is_zero(c)} for s, coefs in spread.items()}


def map_tensors(alpha: AlphaLike, fn: Callable[[Tensor], Tensor]) -> AlphaLike:
    """Apply ``fn`` to every tensor leaf of an alpha structure (e.g. to pad spatial maps)."""
    if isinstance(alpha, Tensor):
        return fn(alpha)
    if isinstance(alpha, Mapping):
        return {k: map_tensors(v, fn) for k, v in alpha.items()}
    if isinstance(alpha, (list, tuple)):
        return type(alpha)(map_tensors(v, fn) for v in alpha)
    return alpha


def fit_to(c: Coefficient, z: Tensor) -> Coefficient:
    """Shape a coefficient so that it broadcasts against a feature map ``z`` (N, C, H, W)."""
    if not isinstance(c, Tensor):
        return c
    c = c.to(device=z.device, dtype=z.dtype)
    if c.dim() == 0:
        return c
    if not torch.jit.is_tracing() and c.shape[0] not in (1, z.shape[0]):
        raise AlphaError(f"alpha has batch size {c.shape[0]} but the input has batch size {z.shape[0]}")
    if c.dim() == 1:
        return c.view(-1, *([1] * (z.dim() - 1)))
    size = tuple(z.shape[-2:])
    if tuple(c.shape[-2:]) == size:
        return c
    shrinking = c.shape[-2] > size[0] or c.shape[-1] > size[1]
    resized = torch.nn.functional.interpolate(  # in float32: antialiasing has no bf16 kernel
        c.float(), size=size, mode="bilinear", align_corners=False, antialias=shrinking
    )
    return resized.to(z.dtype)
