"""Choosing the device a command runs on, with errors a user can act on."""

from __future__ import annotations

import torch

from .errors import DynamicNetError


class DeviceError(DynamicNetError, ValueError):
    """A device name that is malformed or not available on this machine."""


def resolve_device(spec: str | torch.device | None = None) -> torch.device:
    """``None``/"auto": CUDA when present, else the CPU; otherwise the named device, checked."""
    if spec is None or str(spec) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except (RuntimeError, TypeError) as err:
        raise DeviceError(f"unknown device {str(spec)!r} (use cpu, cuda or cuda:N)") from err
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {str(spec)!r}: CUDA is not available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"device {str(spec)!r}: only {torch.cuda.device_count()} CUDA device(s)")
    elif device.type != "cpu":
        raise DeviceError(f"device {str(spec)!r} is not supported (use cpu, cuda or cuda:N)")
    return device
