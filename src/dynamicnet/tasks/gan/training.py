"""Turn a GAN recipe into a Dynamic DCGAN, face subsets and adversarial training stages.

Phase 1 trains the generator on the main subset against a discriminator. Phase 2 keeps
the generator frozen (BatchNorm on its running statistics) and trains the block against
a fresh discriminator on the other subset. Each discriminator, its optimiser and its
noise counter are checkpointed with the generator, so a resumed run ends exactly where
an uninterrupted one would.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn

from ...data.celeba import AlignedFaces, read_face_table
from ...data.folder import DatasetError
from ...training.adversarial import discriminator_update, generator_loss
from ...training.recipe import Recipe, RecipeError
from ...training.stages import Stage, recipe_metadata, two_phase_stages
from ..base import start_from
from . import model as gan
from .dcgan import Discriminator

BETAS = (0.5, 0.999)  # DCGAN's Adam settings, for both networks


def latent_codes(key: tuple[int, ...], n: int, latent: int) -> Tensor:
    """Noise that is a function of ``key`` (seed, phase, purpose, counter): a resumed run draws the same."""
    rng = np.random.default_rng([k % 2**32 for k in key])
    return torch.from_numpy(rng.standard_normal((n, latent))).float()


class Adversary:
    """A discriminator, its optimiser and its noise counter; one per training phase."""

    def __init__(
        self,
        ndf: int,
        lr: float,
        latent: int,
        seed: tuple[int, int],
        device: torch.device,
        real_label: float = 1.0,
        r1: float = 0.0,
    ) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed((seed[0] % 2**31) * 1009 + seed[1])
            self.net = Discriminator(ndf).to(device)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr, betas=BETAS)
        self.latent, self.seed, self.calls = latent, seed, 0
        self.real_label, self.r1 = real_label, r1

    def state_dict(self) -> dict:
        return {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict(), "calls": self.calls}

    def load_state_dict(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.calls = int(state["calls"])

    def step(self, model: nn.Module, real: Tensor, alpha) -> dict[str, Tensor]:
        """One discriminator update; returns the generator's non-saturating loss to minimise."""
        z = latent_codes((*self.seed, 0, self.calls), real.shape[0], self.latent).to(real.device)
        self.calls += 1
        fake = model(z, alpha=alpha) * 2 - 1
        terms = discriminator_update(self.net, self.optimizer, real * 2 - 1, fake, self.real_label, self.r1)
        return {"loss": generator_loss(self.net, fake), **terms}


@torch.no_grad()
def recalibrate_batchnorm(model: gan.GanModel, batch: int, batches: int, seed: tuple[int, int]) -> None:
    """Set the generator's BatchNorm running statistics to the mean over ``batches`` fresh
    batches of the final weights: inference then sees what training saw."""
    base = model.net.base
    norms = [m for m in base.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a plain average over the batches below
    base.train()
    device = next(model.parameters()).device
    for i in range(batches):
        model(latent_codes((*seed, 1, i), batch, model.latent).to(device), alpha=0.0)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    base.eval()


class GanTraining:
    """Everything the generic trainer needs for a GAN recipe."""

    perceptual_record = None  # no perceptual network
    ignored = 0
    diverged_hint = "lower the learning rate, or steady the discriminator ([adversary] r1 > 0)"
    dataset = None  # each stage brings its own subset

    def __init__(self, recipe: Recipe, device: torch.device, perceptual_override: str | None = None) -> None:
        if perceptual_override is not None:
            raise RecipeError(f"{recipe.path}: a GAN recipe has no perceptual network (drop --perceptual)")
        if dist.is_available() and dist.is_initialized():
            raise RecipeError(f"{recipe.path}: GAN recipes train in one process (run without torchrun)")
        self.recipe = recipe
        d = recipe.data
        m = d["model"]
        torch.manual_seed(d["seed"])
        self.model = gan.build(gan.default_config(m["latent"], m["ngf"], m["variant"])).to(device)
        if d["main"].get("init"):
            start_from(self.model, gan.build, recipe.resolve(d["main"]["init"]), recipe.path)
        self.faces = read_face_table(recipe.resolve(d["data"]["faces"]))
        self.device = device

    def _subset(self, expression: str) -> AlignedFaces:
        data = self.recipe.data["data"]
        files = self.faces.select(expression, data.get("split"))
        if len(files) < data["batch"]:
            raise DatasetError(
                f"{self.recipe.path}: only {len(files)} faces match {expression!r}"
                f"{' in the ' + data['split'] + ' split' if data.get('split') else ''}; "
                f"a batch needs {data['batch']}"
            )
        return AlignedFaces(
            files, crop=data["crop"], size=data["size"], flip=data["flip"], seed=self.recipe.data["seed"]
        )

    def _stage(self, index: int, name: str, trainable: str, alpha, table: dict) -> Stage:
        d = self.recipe.data
        dataset = self._subset(table["subset"])
        seed = (d["seed"], index)
        settings = {**d["adversary"], **{k: table[k] for k in d["adversary"] if k in table}}
        adversary = Adversary(
            d["model"]["ndf"], float(table["lr"]), d["model"]["latent"], seed, self.device, **settings
        )

        def finish(model: nn.Module) -> None:
            recalibrate_batchnorm(model, batch=d["data"]["batch"], batches=64, seed=seed)

        return Stage(
            name=name,
            trainable=trainable,
            alpha=alpha,
            loss=lambda model, batch: adversary.step(model, batch, alpha),
            steps=table["steps"],
            lr=float(table["lr"]),
            objective={"subset": table["subset"], "faces": len(dataset), **settings},
            dataset=dataset,
            state=adversary,
            finish=finish if trainable == "main" else None,
            betas=BETAS,
        )

    def stages(self) -> list[Stage]:
        return two_phase_stages(self.recipe, self.model.net, self._stage)

    def metadata(self, stages: list[Stage]) -> dict:
        return recipe_metadata(self.recipe, stages)
