"""What one training phase is, independent of the task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from ..core import AlphaLike

# (model, batch) -> {"loss": scalar to minimise, other named terms for the log}
StepLoss = Callable[[nn.Module, Tensor], dict[str, Tensor]]


@dataclass
class Stage:
    """One phase: train ``trainable`` ("main" or a block-set name) for ``steps`` at ``alpha``.

    ``dataset`` overrides the task's (a GAN trains each phase on another subset).
    ``state`` is anything else the phase learns (a discriminator and its optimiser): an
    object with ``state_dict``/``load_state_dict`` that goes into every checkpoint.
    ``finish(model)`` runs once when the phase's last step is done, before its checkpoint.
    """

    name: str
    trainable: str
    alpha: AlphaLike
    loss: StepLoss
    steps: int
    lr: float
    objective: dict
    dataset: Dataset | None = None
    state: Any = None
    finish: Callable[[nn.Module], None] | None = None
    betas: tuple[float, float] = (0.9, 0.999)


def two_phase_stages(recipe, net, make: Callable[..., Stage]) -> list[Stage]:
    """The main stage, then one stage per ``[[tune]]`` table, each at its set's unit alpha.

    ``make(index, name, trainable, alpha, table)`` builds a task's stage.
    """
    d = recipe.data
    out = [make(0, "main", "main", 0.0, d["main"])]
    for i, table in enumerate(d["tune"], start=1):
        set_name = table["set"]
        out.append(make(i, f"tune:{set_name}", set_name, net.unit_alpha(set_name), table))
    return out


class AlphaDraws:
    """The alphas of a block stage trained across the knob rather than at its end.

    Each step draws t uniformly from (0, 1] and trains at t times the set's unit alpha, on
    the objective (1 - t) O_0 + t O_set, so every knob position in between is supervised,
    not only the end (loss-conditional training on the paper's frozen main network). The
    generator is the stage's checkpointed state: a resumed run draws what an uninterrupted
    one would.
    """

    def __init__(self, unit: AlphaLike, seed: int) -> None:
        self.unit = unit
        self.generator = torch.Generator().manual_seed(seed)

    def draw(self) -> tuple[float, AlphaLike]:
        """(t, the alpha to run the network at)."""
        t = 1.0 - float(torch.rand((), generator=self.generator))
        if isinstance(self.unit, dict):
            return t, {name: t * value for name, value in self.unit.items()}
        return t, t * self.unit

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


def recipe_metadata(recipe, stages: list[Stage], **extra: Any) -> dict:
    """What every task's model file records about its training: name, objectives, the recipe."""
    return {
        "name": recipe.name,
        "objectives": {s.name: s.objective for s in stages},
        **extra,
        "recipe": recipe.data,
        "recipe_file": recipe.path.name,
    }
