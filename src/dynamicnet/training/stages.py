"""What one training phase is, independent of the task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
