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

import numpy as np
import torch
from torch import Tensor, nn

from ..networks.discriminator import PatchDiscriminator
from ..networks.vgg import ImageNetNorm, VGG16Features
from ..training.adversarial import discriminator_update, generator_loss
from ..training.recipe import RecipeError, check_objectives
from ..training.stages import AlphaDraws

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


def check_pixel_objectives(d: dict, where: str) -> None:
    """A recipe's [objectives.NAME] tables, each a valid PixelObjective and each named stage's
    objective defined: a typo fails when the recipe is read, not at training."""
    check_objectives(d, where)
    for name, table in d["objectives"].items():
        try:
            PixelObjective.from_dict(table, name)
        except RecipeError as err:
            raise RecipeError(f"{where}: {err}") from None


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


class PixelStage:
    """What one stage of an image-to-image task keeps between steps: a call counter (each
    step's inputs are drawn from a generator seeded by it, so a resumed run draws what an
    uninterrupted one would), the stage's patch discriminator and its optimiser when its
    objective has an adversarial term, and the alphas of blocks trained across the knob.
    All of it is the stage's checkpointed state."""

    def __init__(
        self,
        recipe,
        index: int,
        objective: PixelObjective,
        lr: float,
        device,
        draws: AlphaDraws | None = None,
    ) -> None:
        d = recipe.data
        self.seed, self.calls, self.draws = (d["seed"], index), 0, draws
        adversary = d["adversary"]
        self.real_label, self.r1 = adversary["real_label"], adversary["r1"]
        self.hole_patches = adversary.get("patches") == "hole"
        self.net: nn.Module | None = None
        if objective.adversarial > 0:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(d["seed"] * 1009 + index)
                net = PatchDiscriminator(d["model"]["ndf"], adversary.get("norm") or "none")
                self.net = net.to(device)
            d_lr = adversary.get("lr") or lr
            self.optimizer = torch.optim.Adam(self.net.parameters(), lr=d_lr, betas=(0.5, 0.999))

    def generator(self) -> np.random.Generator:
        """This step's generator (the next call's is another)."""
        rng = np.random.default_rng([*self.seed, self.calls])
        self.calls += 1
        return rng

    def terms(
        self,
        weights: PixelObjective,
        made: Tensor,
        real: Tensor,
        l1: Tensor,
        distance: nn.Module | None,
        judged: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """``loss``, the weighted sum of ``l1`` (the task's reconstruction error), the perceptual
        distance and the adversarial term (one discriminator step first), and each term.
        ``judged`` (N, 1, H, W): where ``made`` differs from ``real`` (a hole); with the
        recipe's ``[adversary] patches = "hole"`` the discriminator's patches count by it."""
        terms = {"l1": l1}
        total = weights.l1 * l1
        if weights.perceptual > 0:
            terms["perceptual"] = distance(made, real).mean()
            total = total + weights.perceptual * terms["perceptual"]
        if self.net is not None:
            fake, real_pm = made * 2 - 1, real * 2 - 1
            weight = judged if self.hole_patches else None
            terms |= discriminator_update(
                self.net, self.optimizer, real_pm, fake, self.real_label, self.r1, weight
            )
            terms["adversarial"] = generator_loss(self.net, fake, weight)
            total = total + weights.adversarial * terms["adversarial"]
        return {"loss": total, **terms}

    def state_dict(self) -> dict:
        state: dict = {"calls": self.calls}
        if self.net is not None:
            state |= {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict()}
        if self.draws is not None:
            state["draws"] = self.draws.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.calls = int(state["calls"])
        if self.draws is not None:
            self.draws.load_state_dict(state["draws"])
        if self.net is not None:
            self.net.load_state_dict(state["net"])
            self.optimizer.load_state_dict(state["optimizer"])
