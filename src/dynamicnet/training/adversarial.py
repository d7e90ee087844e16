"""The adversarial terms every GAN-style objective shares (non-saturating loss, soft labels, R1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def patch_weights(scores: Tensor, weight: Tensor | None) -> Tensor | None:
    """``weight`` (N, 1, H, W) in [0, 1] at the image's size, averaged down to the
    discriminator's score map: how much each patch covers of what is being judged."""
    if weight is None:
        return None
    return F.adaptive_avg_pool2d(weight.float(), scores.shape[-2:]).expand_as(scores)


def _weighted_mean(values: Tensor, weights: Tensor | None) -> Tensor:
    if weights is None:
        return values.mean()
    return (values * weights).sum() / weights.sum().clamp(min=1e-6)


def discriminator_update(
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    real: Tensor,
    fake: Tensor,
    real_label: float,
    r1: float,
    weight: Tensor | None = None,
) -> dict[str, Tensor]:
    """One step of ``net`` on real vs (detached) fake images in [-1, 1]; returns its log terms.

    ``real_label`` < 1 is one-sided label smoothing; ``r1`` > 0 a gradient penalty on real
    images (Mescheder et al. 2018), which keeps the discriminator smooth around them.
    ``weight`` (N, 1, H, W) counts each patch by how much of it differs between real and
    fake (a completion's hole): patches of known pixels, the same in both, teach nothing.
    """
    real = real.detach().requires_grad_(r1 > 0)
    net.train()
    d_real, d_fake = net(real).float(), net(fake.detach()).float()
    w = patch_weights(d_real, weight)
    bce = F.binary_cross_entropy_with_logits
    d_loss = _weighted_mean(bce(d_real, torch.full_like(d_real, real_label), reduction="none"), w)
    d_loss = d_loss + _weighted_mean(bce(d_fake, torch.zeros_like(d_fake), reduction="none"), w)
    if r1 > 0:
        (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
        d_loss = d_loss + r1 / 2 * grad.float().pow(2).flatten(1).sum(1).mean()
    optimizer.zero_grad(set_to_none=True)
    d_loss.backward()
    optimizer.step()
    return {
        "d_loss": d_loss.detach(),
        "d_real": _weighted_mean(torch.sigmoid(d_real), w).detach(),
        "d_fake": _weighted_mean(torch.sigmoid(d_fake), w).detach(),
    }


def generator_loss(net: nn.Module, fake: Tensor, weight: Tensor | None = None) -> Tensor:
    """The non-saturating generator loss: push ``net``'s scores of ``fake`` toward real
    (each patch counted by ``weight``, as in :func:`discriminator_update`)."""
    scores = net(fake).float()
    loss = F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores), reduction="none")
    return _weighted_mean(loss, patch_weights(scores, weight))
