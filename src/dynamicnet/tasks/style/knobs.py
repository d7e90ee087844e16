"""The one-knob ways to move between two objectives that the objective-space study compares."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor

from ...core import AlphaLike
from ...inference import Renderer
from .. import load_model

METHODS = ("dynamic-net", "pixel-blend", "dni")


class KnobMethods:
    """Outputs of a trained Dynamic-Net and its two alternatives at knob position ``a`` in [0, 1].

    - ``dynamic-net``: the model at alpha = a times the tuned set's unit alpha;
    - ``pixel-blend``: (1 - a) y_0 + a y_1 of the model's two end outputs;
    - ``dni``: the main network with weights (1 - a) theta_main + a theta_finetuned.
    """

    def __init__(self, dynamic: str | Path, dni: str | Path, set_name: str) -> None:
        self.model = load_model(dynamic).eval()
        self.set_name = set_name
        self.renderer = Renderer(self.model, precision="fp32")
        self._dni_model = copy.deepcopy(self.model)
        self._dni_ends = (self.model.net.base.state_dict(), load_model(dni).net.base.state_dict())
        self._dni_at: float | None = None
        self._end_cache: dict[int, tuple[Tensor, Tensor, Tensor]] = {}

    def _ends(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The two end outputs of a photo, rendered once however many blend positions are asked."""
        cached = self._end_cache.get(id(x))
        if cached is None or cached[0] is not x:  # the reference held here keeps the id unique
            ends = (
                self.renderer(x, alpha=0.0).clamp(0, 1),
                self.renderer(x, alpha=self.alpha(1.0)).clamp(0, 1),
            )
            cached = self._end_cache[id(x)] = (x, *ends)
        return cached[1], cached[2]

    def alpha(self, a: float) -> AlphaLike:
        """Knob position ``a`` as the model's alpha for the tuned set (a dict for multi-set models)."""
        u = self.model.net.unit_alpha(self.set_name)
        return {k: a * v for k, v in u.items()} if isinstance(u, dict) else a * u

    @torch.no_grad()
    def output(self, method: str, a: float, x: Tensor) -> Tensor:
        """RGB in [0, 1] for a (1, 3, H, W) photo."""
        if method == "dynamic-net":
            return self.renderer(x, alpha=self.alpha(a)).clamp(0, 1)
        if method == "pixel-blend":
            y0, y1 = self._ends(x)
            return torch.lerp(y0, y1, a)
        if method == "dni":
            if self._dni_at != a:
                start, end = self._dni_ends
                mixed = {k: torch.lerp(v.float(), end[k].float(), a) for k, v in start.items()}
                self._dni_model.net.base.load_state_dict(mixed)
                self._dni_at = a
            return self._dni_model(x).clamp(0, 1)
        raise ValueError(f"unknown method {method!r} (known: {', '.join(METHODS)})")


@lru_cache(maxsize=8)
def _fixed_model(path: str) -> torch.nn.Module:
    return load_model(path).eval()


@torch.no_grad()
def fixed_output(path: str | Path, x: Tensor) -> Tensor:
    """A fixed network's output (its alpha-0 output; blocks, if any, stay off)."""
    return _fixed_model(str(Path(path).resolve()))(x).clamp(0, 1)
