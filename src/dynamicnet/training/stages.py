"""What one training phase is, independent of the task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

from ..core import AlphaLike

# (model, batch) -> {"loss": scalar to minimise, other named terms for the log}
StepLoss = Callable[[nn.Module, Tensor], dict[str, Tensor]]


@dataclass
class Stage:
    """One phase: train ``trainable`` ("main" or a block-set name) for ``steps`` at ``alpha``."""

    name: str
    trainable: str
    alpha: AlphaLike
    loss: StepLoss
    steps: int
    lr: float
    objective: dict
