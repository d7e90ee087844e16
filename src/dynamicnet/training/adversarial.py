"""The adversarial terms every GAN-style objective shares (non-saturating loss, soft labels, R1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def discriminator_update(
    net: nn.Module, optimizer: torch.optim.Optimizer, real: Tensor, fake: Tensor, real_label: float, r1: float
) -> dict[str, Tensor]:
    """One step of ``net`` on real vs (detached) fake images in [-1, 1]; returns its log terms.

    ``real_label`` < 1 is one-sided label smoothing; ``r1`` > 0 a gradient penalty on real
    images (Mescheder et al. 2018), which keeps the discriminator smooth around them.
    """
    real = real.detach().requires_grad_(r1 > 0)
    net.train()
    d_real, d_fake = net(real).float(), net(fake.detach()).float()
    d_loss = F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, real_label))
    d_loss = d_loss + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    if r1 > 0:
        (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
        d_loss = d_loss + r1 / 2 * grad.float().pow(2).flatten(1).sum(1).mean()
    optimizer.zero_grad(set_to_none=True)
    d_loss.backward()
    optimizer.step()
    return {
        "d_loss": d_loss.detach(),
        "d_real": torch.sigmoid(d_real).mean().detach(),
        "d_fake": torch.sigmoid(d_fake).mean().detach(),
    }


def generator_loss(net: nn.Module, fake: Tensor) -> Tensor:
    """The non-saturating generator loss: push ``net``'s scores of ``fake`` toward real."""
    scores = net(fake).float()
    return F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))
