"""A tint recipe as the generic trainer needs it: the model, the photos, two stages."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dynamicnet.data.folder import RandomCrops, list_images
from dynamicnet.training.recipe import Recipe
from dynamicnet.training.stages import Stage, recipe_metadata, two_phase_stages

from . import model as tint


def warm(x: Tensor, warmth: float) -> Tensor:
    """The tuned objective's target: more red, less blue."""
    shift = torch.tensor([warmth, 0.0, -warmth], device=x.device).view(1, 3, 1, 1)
    return (x + shift).clamp(0, 1)


class TintTraining:
    perceptual_record = None
    diverged_hint = "lower the learning rates"

    def __init__(self, recipe: Recipe, device: torch.device, perceptual: str | None = None) -> None:
        self.recipe = recipe
        d = recipe.data
        torch.manual_seed(d["seed"])
        self.model = tint.build(tint.default_config(d["model"]["width"])).to(device)
        files, self.ignored = list_images(recipe.resolve(d["data"]["photos"]))
        self.dataset = RandomCrops(files, d["data"]["crop"], None, d["seed"])

    def _stage(self, index: int, name: str, trainable: str, alpha, table: dict) -> Stage:
        warmth = 0.0 if trainable == "main" else self.recipe.data["warmth"]

        def loss(model: nn.Module, real: Tensor) -> dict[str, Tensor]:
            return {"loss": F.l1_loss(model(real, alpha=alpha), warm(real, warmth))}

        return Stage(name, trainable, alpha, loss, table["steps"], table["lr"], {"warmth": warmth})

    def stages(self) -> list[Stage]:
        return two_phase_stages(self.recipe, self.model.net, self._stage)

    def metadata(self, stages: list[Stage]) -> dict:
        return recipe_metadata(self.recipe, stages)
