"""Turn a style recipe into a model, a dataset and training stages."""

from __future__ import annotations

import torch

from ...data.folder import RandomCrops, list_images
from ...losses.perceptual import CONTENT_LAYER, StyleLoss, StyleObjective
from ...models import resolve_model
from ...training.recipe import Recipe
from ...training.stages import AlphaDraws, Stage, recipe_metadata, two_phase_stages
from ..base import recipe_perceptual, start_from
from . import model as style


def _init_source(recipe: Recipe, spec: str):
    """An ``init`` entry: a file relative to the recipe, else a shipped model's name."""
    source = recipe.resolve(spec)
    return source if source.exists() else resolve_model(spec)


class StyleTraining:
    """Everything the generic trainer needs for a style recipe."""

    diverged_hint = "lower the learning rate or the objectives' style weights"

    def __init__(self, recipe: Recipe, device: torch.device, perceptual_override: str | None = None) -> None:
        self.recipe = recipe
        d = recipe.data
        sets = recipe.tune_sets if recipe.variant == "multi" else None
        architecture = style.RECIPE_ARCHITECTURES[d["model"].get("architecture", "johnson")]
        config = style.default_config(recipe.variant, sets, architecture)
        torch.manual_seed(d["seed"])
        self.model = style.build(config).to(device)
        self.initialised_from = None
        if d["model"].get("init"):
            source = _init_source(recipe, d["model"]["init"])
            self.initialised_from = start_from(self.model, style.build, source, recipe.path, whole=True)
        if d["main"].get("init"):
            source = _init_source(recipe, d["main"]["init"])
            self.initialised_from = start_from(self.model, style.build, source, recipe.path)
        self.vgg, self.perceptual_record = recipe_perceptual(recipe, perceptual_override, device)
        self.objectives = {
            name: StyleObjective.from_dict(table, recipe.base_dir, name)
            for name, table in d["objectives"].items()
        }
        photos = recipe.resolve(d["data"]["photos"])
        self.files, self.ignored = list_images(photos, exclude=d["data"].get("holdout", []))
        self.context = d["data"].get("context", 0)
        crop, resize = d["data"]["crop"], d["data"]["resize"]
        self.dataset = RandomCrops(
            self.files, crop + 2 * self.context, max(resize or crop, crop + 2 * self.context), d["seed"]
        )
        self.device = device

    def _stage(self, index: int, name: str, trainable: str, alpha, table: dict) -> Stage:
        objective = self.objectives[table["objective"]]
        criterion = StyleLoss(self.vgg, objective).to(self.device)
        across = table.get("alpha") == "across"
        if across:
            # blocks trained across the knob: the main objective at the low end of the mix
            low_end = self.recipe.data["main"]["objective"]
            start = StyleLoss(self.vgg, self.objectives[low_end]).to(self.device)
            draws = AlphaDraws(alpha, self.recipe.data["seed"] * 1000 + index)
        c = self.context

        def loss(model, batch):
            # the network sees `context` pixels of real photo around the crop that the loss
            # does not score: nothing rewards what it paints at its own borders, so it paints
            # them as it paints the inside (no frame)
            t, at = draws.draw() if across else (1.0, alpha)
            out = model(batch, alpha=at)
            if c:
                out, batch = out[..., c:-c, c:-c], batch[..., c:-c, c:-c]
            if not across:
                return criterion(out, batch)
            feats = criterion.features(out)
            with torch.no_grad():
                target = criterion.features(batch)[CONTENT_LAYER]
            low, high = (f.terms(out, feats, target, batch) for f in (start, criterion))
            return {**high, "loss": (1 - t) * low["loss"] + t * high["loss"], "alpha": torch.tensor(t)}

        record = objective.to_dict()
        if across:
            record["trained_across_alpha_from"] = low_end
        return Stage(
            name=name,
            trainable=trainable,
            alpha=alpha,
            loss=loss,
            steps=table["steps"],
            lr=float(table["lr"]),
            objective=record,
            state=draws if across else None,
        )

    def stages(self) -> list[Stage]:
        return two_phase_stages(self.recipe, self.model.net, self._stage)

    def metadata(self, stages: list[Stage]) -> dict:
        """What goes into the model file besides the architecture."""
        extra = {"initialised_from": self.initialised_from} if self.initialised_from else {}
        return recipe_metadata(self.recipe, stages, perceptual=self.perceptual_record, **extra)
