"""Dynamic DCGAN: a face generator whose tuning block moves every face toward another attribute.

``model(z, alpha=...)`` maps latent codes to RGB in [0, 1]. BatchNorm always runs on its
running statistics outside training, so a face never depends on the others in its batch.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import Tensor, nn

from ...core import AlphaLike, DynamicNet, attach
from ...networks.blocks import ConvTuningBlock
from ..base import AppModel
from .dcgan import GAN_INSERTION_POINTS, Generator, dcgan_init

TASK = "gan"
ARCHITECTURE = "dcgan-64"


def default_config(latent: int = 100, ngf: int = 128, variant: str = "single", sets=None) -> dict:
    """Metadata skeleton of a Dynamic DCGAN with the paper's one block at 16 x 16."""
    sets = {"single": ["default"], "dual": ["high", "low"]}.get(variant, sets)
    return {
        "task": TASK,
        "architecture": ARCHITECTURE,
        "latent": latent,
        "ngf": ngf,
        "variant": variant,
        "sets": list(sets),
        "blocks": {name: {"at": path, "channels": ngf * 2} for name, path in GAN_INSERTION_POINTS.items()},
        "block_type": "conv3x3x3",
        "io": "z (N, latent) in, rgb01 (N, 3, 64, 64) out",
    }


def _block(channels: int) -> nn.Module:
    block = ConvTuningBlock(channels)
    dcgan_init(block)
    return block


class GanModel(AppModel):
    """``model(z, alpha=...)``: z is (N, latent) or (N, latent, 1, 1); returns (N, 3, 64, 64) in [0, 1]."""

    task = TASK

    def __init__(self, net: DynamicNet, config: dict) -> None:
        super().__init__(net, config)
        self.latent = int(config["latent"])

    def forward(self, z: Tensor, alpha: AlphaLike = 0.0) -> Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        if z.dim() != 4 or z.shape[1] != self.latent or z.shape[2:] != (1, 1):
            raise ValueError(
                f"expected z of shape (N, {self.latent}) or (N, {self.latent}, 1, 1), got {tuple(z.shape)}"
            )
        if not z.is_floating_point():
            raise ValueError(f"expected floating-point z, got {z.dtype}")
        return (self.net(z, alpha=alpha) + 1) / 2

    def latents(self, n: int, seed: int = 0) -> Tensor:
        """Codes 0..n-1 of ``seed``: code i is the same for any n and on any machine."""
        codes = [np.random.default_rng([seed, i]).standard_normal(self.latent) for i in range(n)]
        return torch.from_numpy(np.stack(codes)).float()

    @torch.no_grad()
    def sample(self, n: int, alpha: AlphaLike = 0.0, seed: int = 0) -> Tensor:
        """``n`` faces from the codes of ``seed`` at ``alpha``."""
        device = next(self.parameters()).device
        return self(self.latents(n, seed).to(device), alpha=alpha)


def build(config: dict) -> GanModel:
    """A freshly initialised Dynamic DCGAN for a metadata dict (see :func:`default_config`)."""
    if config.get("architecture") != ARCHITECTURE:
        raise ValueError(f"unsupported GAN architecture {config.get('architecture')!r}")
    at = {name: (b["at"], b["channels"]) for name, b in config["blocks"].items()}
    generator = Generator(int(config["latent"]), int(config["ngf"]))
    net = attach(generator, at, _block, variant=config["variant"], sets=config["sets"])
    return GanModel(net, copy.deepcopy(config))
