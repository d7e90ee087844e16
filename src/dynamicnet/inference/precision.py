"""Which number format to render in: bf16 where the hardware runs it fast, fp32 elsewhere."""

from __future__ import annotations

import torch

from ..errors import DynamicNetError

PRECISIONS = ("auto", "fp32", "bf16")


class PrecisionError(DynamicNetError, ValueError):
    """An unknown precision, or bf16 asked for on a device type other than cpu or cuda."""


def _cpu_has(check: str) -> bool:
    probe = getattr(torch.cpu, check, None)  # private probes; absent on some builds
    try:
        return bool(probe()) if probe is not None else False
    except RuntimeError:
        return False


def fast_bf16(device: torch.device) -> bool:
    """True where bf16 convolutions beat fp32: CPUs with AMX or AVX512-BF16, CUDA GPUs with bf16."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return _cpu_has("_is_amx_tile_supported") or _cpu_has("_is_avx512_bf16_supported")
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """ "auto" becomes "bf16" or "fp32" for ``device``; the others are checked and kept."""
    if precision not in PRECISIONS:
        raise PrecisionError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return "bf16" if fast_bf16(device) else "fp32"
    if precision == "bf16" and device.type not in ("cpu", "cuda"):
        raise PrecisionError(f"bf16 rendering is supported on cpu and cuda, not {device.type}")
    return precision
