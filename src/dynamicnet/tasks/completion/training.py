"""Turn a completion recipe into a model, training crops (photos or faces) and stages.

Each stage draws its holes from a seeded counter and, when its objective has an
adversarial term, trains its own patch discriminator; both live in the stage state,
so a resumed run sees the same holes and the same discriminator as an uninterrupted one.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor, nn

from ...data.celeba import AlignedFaces, read_face_table
from ...data.folder import KeyedImages, RandomCrops, list_images
from ...data.masks import draw_mask
from ...losses.pixel import PerceptualDistance, PixelObjective, PixelStage
from ...training.recipe import Recipe, RecipeError
from ...training.stages import AlphaDraws, Stage, recipe_metadata, two_phase_stages
from ..base import recipe_perceptual, start_from
from . import model as completion
from .objectives import hole_l1

BETAS = (0.5, 0.999)


def training_images(recipe: Recipe) -> tuple[KeyedImages, int]:
    """The recipe's crops: random crops of a photo folder, or aligned faces. Also the count of
    non-image files ignored."""
    data = recipe.data["data"]
    if "photos" in data:
        files, ignored = list_images(recipe.resolve(data["photos"]), exclude=data.get("holdout", []))
        return RandomCrops(files, data["crop"], data["resize"], recipe.data["seed"]), ignored
    table = read_face_table(recipe.resolve(data["faces"]))
    keep = table.split_mask(data.get("split"))
    files = [table.image_folder / f for f, k in zip(table.files, keep) if k]
    faces = AlignedFaces(files, size=data["size"], flip=data["flip"], seed=recipe.data["seed"])
    return faces, 0


class Holes(PixelStage):
    """A completion stage's state: its holes are drawn from the step counter."""

    def __init__(self, recipe: Recipe, *args, **kwargs) -> None:
        super().__init__(recipe, *args, **kwargs)
        self.kind, self.fraction = recipe.data["data"]["mask"], recipe.data["data"]["hole"]

    def draw(self, n: int, h: int, w: int) -> Tensor:
        rng = self.generator()
        return torch.stack([draw_mask(self.kind, rng, h, w, self.fraction) for _ in range(n)])


class CompletionTraining:
    """Everything the generic trainer needs for a completion recipe."""

    ignored = 0
    diverged_hint = "lower the learning rate or the objectives' adversarial weight"

    def __init__(self, recipe: Recipe, device: torch.device, perceptual_override: str | None = None) -> None:
        if dist.is_available() and dist.is_initialized():
            raise RecipeError(
                f"{recipe.path}: completion recipes train in one process (run without torchrun)"
            )
        self.recipe, self.device = recipe, device
        d = recipe.data
        torch.manual_seed(d["seed"])
        config = completion.default_config(d["model"]["width"], prefill=d["model"].get("prefill"))
        self.model = completion.build(config).to(device)
        if d["main"].get("init"):
            start_from(self.model, completion.build, recipe.resolve(d["main"]["init"]), recipe.path)
        self.objectives = {
            name: PixelObjective.from_dict(table, name) for name, table in d["objectives"].items()
        }
        used = [self.objectives[s["objective"]] for s in (d["main"], *d["tune"])]
        self.distance, self.perceptual_record = None, None
        if any(o.perceptual > 0 for o in used):
            vgg, self.perceptual_record = recipe_perceptual(recipe, perceptual_override, device)
            self.distance = PerceptualDistance(vgg.requires_grad_(False))
        elif perceptual_override is not None:
            raise RecipeError(f"{recipe.path}: no objective has a perceptual term (drop --perceptual)")
        self.dataset, self.ignored = training_images(recipe)

    def _stage(self, index: int, name: str, trainable: str, alpha, table: dict) -> Stage:
        objective = self.objectives[table["objective"]]
        across = table.get("alpha") == "across"  # blocks supervised at every knob position
        exponent = table.get("mix_exponent", 1.0)
        low_end = self.recipe.data["main"]["objective"]
        draws = AlphaDraws(alpha, self.recipe.data["seed"] * 1000 + index) if across else None
        holes = Holes(self.recipe, index, objective, float(table["lr"]), self.device, draws)

        def loss(model: nn.Module, real: Tensor) -> dict[str, Tensor]:
            t, at = draws.draw() if across else (1.0, alpha)
            weights = self.objectives[low_end].mix(objective, t**exponent, "mix") if across else objective
            mask = holes.draw(real.shape[0], *real.shape[-2:]).to(real.device, real.dtype)
            done = model(real, alpha=at, mask=mask)
            terms = holes.terms(weights, done, real, hole_l1(done, real, mask), self.distance, mask)
            if across:
                terms["alpha"] = torch.tensor(t)
            return {k: v if k == "loss" else v.detach() for k, v in terms.items()}

        record = objective.to_dict() | ({"trained_across_alpha_from": low_end} if across else {})
        if "mix_exponent" in table:
            record["mix_exponent"] = exponent

        return Stage(
            name=name,
            trainable=trainable,
            alpha=alpha,
            loss=loss,
            steps=table["steps"],
            lr=float(table["lr"]),
            objective=record,
            state=holes,
            betas=BETAS,
        )

    def stages(self) -> list[Stage]:
        return two_phase_stages(self.recipe, self.model.net, self._stage)

    def metadata(self, stages: list[Stage]) -> dict:
        data = self.recipe.data["data"]
        holes = {"mask": data["mask"], "hole": data["hole"]}
        return recipe_metadata(self.recipe, stages, perceptual=self.perceptual_record, holes=holes)
