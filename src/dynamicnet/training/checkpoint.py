"""Atomic training checkpoints, the latest and the one before it. They are our own files,
read back with ``weights_only=True``.

A checkpoint is written to a temporary file, flushed to disk, and renamed into place; the
checkpoint it replaces is kept as ``*.prev.pt``. A reader that finds the latest one
damaged (a disk fault, a copy cut short) falls back to the previous one.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..io.atomic import atomic_write


def previous_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def save_checkpoint(state: dict, path: str | Path) -> None:
    """Write ``path`` whole, keeping what was there as :func:`previous_path`."""
    path = Path(path)

    def write(tmp: str) -> None:
        torch.save(state, tmp)
        if path.exists():  # the old latest becomes the previous one, just before the new lands
            os.replace(path, previous_path(path))

    atomic_write(path, write, sync=True)


def load_checkpoint(path: str | Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _usable(state: object) -> bool:
    return isinstance(state, dict) and all(k in state for k in ("recipe_hash", "stage", "step", "model"))


def load_latest(path: str | Path) -> tuple[dict | None, Path | None, str | None]:
    """The newest readable checkpoint of ``path`` or its previous one: (state, file, problem).

    ``problem`` describes a damaged latest checkpoint (the previous one is returned), or
    both being damaged (state is then None).
    """
    path = Path(path)
    problems = []
    for candidate in (path, previous_path(path)):
        if not candidate.exists():
            continue
        try:
            state = load_checkpoint(candidate)
        except Exception as err:  # noqa: BLE001 - any damage means the same thing to the user
            problems.append(f"{candidate.name} is damaged ({type(err).__name__})")
            continue
        if not _usable(state):
            problems.append(f"{candidate.name} is damaged (fields missing)")
            continue
        return state, candidate, "; ".join(problems) or None
    return None, None, "; ".join(problems) or None


def remove_stale_temporaries(folder: str | Path) -> int:
    """Delete temporary files that a killed write left in ``folder``; returns how many."""
    stale = list(Path(folder).glob(".*.tmp")) if Path(folder).is_dir() else []
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return len(stale)
