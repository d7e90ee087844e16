"""Atomic training checkpoints. They are our own files, read back with ``weights_only=True``."""

from __future__ import annotations

from pathlib import Path

import torch

from ..io.atomic import atomic_write


def save_checkpoint(state: dict, path: str | Path) -> None:
    """Write so that ``path`` always holds either the old or the new checkpoint, whole."""
    atomic_write(path, lambda tmp: torch.save(state, tmp), sync=True)


def load_checkpoint(path: str | Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)
