"""What every study shares: networks trained once and reused by content hash, resumable, timed.

A study asks :class:`RunCache` for "a network of this kind from this recipe"; the first
call trains it under ``ROOT/KIND-KEY`` (resuming an interrupted run), later calls return
the finished file. Training seconds add up across interrupted invocations.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import DynamicNetError
from ..io.atomic import atomic_write
from ..io.model_file import read_metadata
from ..perceptual.sources import sha256_of
from ..training.recipe import Recipe
from ..training.trainer import train


class EvaluationError(DynamicNetError, ValueError):
    """Inputs a study cannot work with (no held-out data, a mismatched model, ...)."""


def digest(*parts: object) -> str:
    """A short hash of JSON-able parts (cache keys)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def tensor_digest(*tensors: torch.Tensor) -> str:
    """A short hash of tensors' exact contents: cache keys of scores. (A float sum was used
    before; its last bits depend on the number of threads summing, so a cache missed when a
    study ran again with another thread count.)"""
    h = hashlib.sha256()
    for t in tensors:
        h.update(str((t.dtype, tuple(t.shape))).encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


file_digest = sha256_of  # a file's content hash: cache keys of trained networks and scores


def fine_tune_key(recipe: Recipe, start: Path) -> str:
    """Cache key of a network fine-tuned from the file ``start``: the recipe without the file's
    path, plus the file's content, so moving a study folder keeps its cache."""
    data = copy.deepcopy(recipe.data)
    data["main"].pop("init", None)
    return digest(data, file_digest(start))


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: object, indent: int | None = None) -> None:
    atomic_write(path, lambda p: Path(p).write_text(json.dumps(data, indent=indent)))


def machine() -> str:
    """CPU (and GPU) model, cores, threads and torch version: where a study's numbers come from."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):  # Linux names the CPU model only here
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), cpu)
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"
    return f"{cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} threads{gpu}, torch {torch.__version__}"


def knob_grid(points: int) -> list[float]:
    """``points`` evenly spaced knob positions from 0 to 1 (the alpha or mix grid of a study)."""
    if points < 2:
        raise EvaluationError("the knob grid needs at least 2 points")
    return [round(i / (points - 1), 6) for i in range(points)]


def held_out_files(recipe: Recipe, photos: Path, log: Callable[[str], None] = print) -> list[Path]:
    """The image files of ``photos`` whose bytes are not among the recipe's training photos."""
    from ..data.folder import list_images

    d = recipe.data["data"]
    training, _ = list_images(recipe.resolve(d["photos"]), exclude=d.get("holdout", []))
    seen = {file_digest(p) for p in training}
    files, _ = list_images(photos)
    kept = [f for f in files if file_digest(f) not in seen]
    if len(kept) < len(files):
        log(f"left out {len(files) - len(kept)} photo(s) of {photos} that the recipe trains on")
    if not kept:
        raise EvaluationError(f"{photos}: no held-out photos left to evaluate on")
    return kept


def shrink_recipe(recipe: Recipe, steps: int, **data: object) -> Recipe:
    """The same recipe cut to at most ``steps`` per stage with ``data`` settings replaced:
    seconds of training, for tests and dry runs (``--quick``)."""
    d = copy.deepcopy(recipe.data)
    d["name"] = f"{recipe.name}-quick"
    d["data"].update(data)
    for stage in (d["main"], *d["tune"]):
        stage["steps"] = min(stage["steps"], steps)
    return recipe.derive(d)


@dataclass
class RunCache:
    root: Path
    progress: bool = True
    log: Callable[[str], None] = print
    seconds: dict[str, float] = field(default_factory=dict)

    def train(self, kind: str, recipe: Recipe, key: str) -> Path:
        """Train (or resume, or reuse) one network; returns its model file."""
        run = self.root / f"{kind}-{key}"
        done, timing = run / "model.safetensors", run / "seconds.json"
        if not done.exists():
            self.log(f"training {kind} ({run})")
            start = time.perf_counter()
            train(recipe, run, resume=(run / "checkpoint.pt").exists(), progress=self.progress)
            spent = time.perf_counter() - start + (read_json(timing) or {}).get("seconds", 0.0)
            write_json(timing, {"seconds": round(spent, 1)})
            write_json(run / "recipe.json", recipe.data, indent=2)
        if (recorded := read_json(timing)) is not None:
            self.seconds[f"train {kind}"] = recorded["seconds"]
        return done

    def trained_from(self, recipe: Recipe, model: str | None) -> Path:
        """The study's Dynamic-Net: ``model`` (a file or shipped name) if it was trained from
        ``recipe`` as it is now, else trained here."""
        if model is None:
            return self.train("dynamic-net", recipe, recipe.hash)
        from ..models import resolve_model

        path = Path(resolve_model(model))
        if digest(read_metadata(path).get("recipe")) != digest(recipe.data):
            raise EvaluationError(
                f"{model} was not trained from {recipe.path.name} as it is now "
                "(different recipe content); leave out --model to train it here"
            )
        return path


def scoring_seconds(scores: dict[str, list[dict]]) -> float:
    """The time a study spent scoring, from its cached entries (each records its own), so a
    rerun that finds every score cached still reports the first run's time."""
    return round(sum(p.get("seconds", 0.0) for points in scores.values() for p in points), 2)
