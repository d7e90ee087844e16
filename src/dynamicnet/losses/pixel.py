"""Objectives of image-to-image tasks (completion, restoration): reconstruction, perceptual
and adversarial terms, weighted per objective.

Reconstruction alone gives the mean of the plausible outputs (smooth, faithful); the
perceptual and adversarial terms ask for texture (sharp, sometimes invented). A recipe
trains the main network on one mix and the blocks on another; the adversarial term's
discriminator lives with the task's training, since it depends on what is scored.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from ..networks.vgg import ImageNetNorm, VGG16Features
from ..training.recipe import RecipeError

TERMS = ("l1", "perceptual", "adversarial")


@dataclass(frozen=True)
class PixelObjective:
    """Weights of the three terms; at least one is positive."""

    name: str
    l1: float = 1.0
    perceptual: float = 0.0
    adversarial: float = 0.0

    @classmethod
    def from_dict(cls, table: dict, name: str) -> PixelObjective:
        where = f"[objectives.{name}]"
        unknown = set(table) - set(TERMS)
        if unknown:
            raise RecipeError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(TERMS)})")
        for key, value in table.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < math.inf:
                raise RecipeError(f"{where}: '{key}' must be a finite number >= 0, got {value!r}")
        objective = cls(name, **{k: float(v) for k, v in table.items()})
        if not any(objective.weights.values()):
            raise RecipeError(f"{where}: every term has weight 0; give at least one a positive weight")
        return objective

    @property
    def weights(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in TERMS}

    def mix(self, other: PixelObjective, m: float, name: str) -> PixelObjective:
        """(1 - m) * self + m * other: the objectives are linear in their weights."""
        return type(self)(name, **{k: (1 - m) * getattr(self, k) + m * getattr(other, k) for k in TERMS})

    def to_dict(self) -> dict:
        return asdict(self)


class PerceptualDistance(torch.nn.Module):
    """Mean absolute difference of VGG16 features at four depths, per image.

    Unlearned cousin of LPIPS: it uses the same calibrated features as the style losses,
    so it needs no weights beyond the perceptual network already on disk.
    """

    def __init__(self, vgg: VGG16Features) -> None:
        super().__init__()
        self.vgg = vgg
        self.norm = ImageNetNorm().to(vgg.input_pad.device)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        fa, fb = self.vgg(self.norm(a)), self.vgg(self.norm(b))
        per_layer = [(fa[k].float() - fb[k].float()).abs().flatten(1).mean(1) for k in fa]
        return torch.stack(per_layer).mean(0)
