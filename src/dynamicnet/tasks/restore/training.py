"""Turn a restore recipe into a model, clean training crops and stages.

Each stage degrades its crops from a seeded counter and, when its objective has an
adversarial term, trains its own patch discriminator; both live in the stage state, so a
resumed run sees the same pairs and the same discriminator as an uninterrupted one.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ...data.folder import RandomCrops, list_images
from ...losses.pixel import PerceptualDistance, PixelObjective, PixelStage
from ...training.recipe import Recipe
from ...training.stages import AlphaDraws, Stage, recipe_metadata, two_phase_stages
from ..base import recipe_perceptual, start_from
from . import model as restore
from .degrade import Degradation
from .network import DEFAULT_UPSAMPLE

BETAS = (0.9, 0.999)


def model_config(recipe: Recipe) -> dict:
    d = recipe.data
    degradation = Degradation.from_dict(d["degradation"])
    m = d["model"]
    return restore.default_config(degradation, m["width"], m["depth"], m.get("upsample", DEFAULT_UPSAMPLE))


class Pairs(PixelStage):
    """A restore stage's state: its crops are degraded from the step counter."""

    def __init__(self, recipe: Recipe, *args, **kwargs) -> None:
        super().__init__(recipe, *args, **kwargs)
        self.degradation = Degradation.from_dict(recipe.data["degradation"])

    def degrade(self, clean: Tensor) -> Tensor:
        return self.degradation(clean, self.generator())


class RestoreTraining:
    """Everything the generic trainer needs for a restore recipe."""

    diverged_hint = "lower the learning rate or the objectives' adversarial weight"

    def __init__(self, recipe: Recipe, device: torch.device, perceptual_override: str | None = None) -> None:
        self.recipe, self.device = recipe, device
        d = recipe.data
        torch.manual_seed(d["seed"])
        self.model = restore.build(model_config(recipe)).to(device)
        if d["main"].get("init"):
            self.init = start_from(self.model, restore.build, recipe.resolve(d["main"]["init"]), recipe.path)
        self.objectives = {
            name: PixelObjective.from_dict(table, name) for name, table in d["objectives"].items()
        }
        used = [self.objectives[s["objective"]] for s in (d["main"], *d["tune"])]
        self.distance, self.perceptual_record = None, None
        if any(o.perceptual > 0 for o in used):
            vgg, self.perceptual_record = recipe_perceptual(recipe, perceptual_override, device)
            self.distance = PerceptualDistance(vgg.requires_grad_(False))
        data = d["data"]
        files, self.ignored = list_images(recipe.resolve(data["photos"]), exclude=data.get("holdout", []))
        self.dataset = RandomCrops(files, data["crop"], data["resize"], d["seed"])

    def _stage(self, index: int, name: str, trainable: str, alpha, table: dict) -> Stage:
        objective = self.objectives[table["objective"]]
        across = table.get("alpha") == "across"  # blocks supervised at every knob position
        low_end = self.objectives[self.recipe.data["main"]["objective"]]
        draws = AlphaDraws(alpha, self.recipe.data["seed"] * 1000 + index) if across else None
        pairs = Pairs(self.recipe, index, objective, float(table["lr"]), self.device, draws)

        def loss(model: nn.Module, clean: Tensor) -> dict[str, Tensor]:
            t, at = draws.draw() if across else (1.0, alpha)
            weights = low_end.mix(objective, t, "mix") if across else objective
            restored = model(pairs.degrade(clean), alpha=at)
            l1 = (restored.float() - clean.float()).abs().mean()
            terms = pairs.terms(weights, restored, clean, l1, self.distance)
            if across:
                terms["alpha"] = torch.tensor(t)
            return {k: v if k == "loss" else v.detach() for k, v in terms.items()}

        record = objective.to_dict() | ({"trained_across_alpha_from": low_end.name} if across else {})
        return Stage(
            name=name,
            trainable=trainable,
            alpha=alpha,
            loss=loss,
            steps=table["steps"],
            lr=float(table["lr"]),
            objective=record,
            state=pairs,
            betas=BETAS,
        )

    def stages(self) -> list[Stage]:
        return two_phase_stages(self.recipe, self.model.net, self._stage)

    def metadata(self, stages: list[Stage]) -> dict:
        extra = {"init": self.init} if self.recipe.data["main"].get("init") else {}
        return recipe_metadata(self.recipe, stages, perceptual=self.perceptual_record, **extra)
