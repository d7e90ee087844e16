"""The adversarial terms: a weight map counts the discriminator's patches by what they judge."""

from __future__ import annotations

import torch

from dynamicnet.networks.discriminator import PatchDiscriminator
from dynamicnet.training.adversarial import discriminator_update, generator_loss, patch_weights


def test_patches_outside_the_weighted_region_do_not_count():
    torch.manual_seed(0)
    net = PatchDiscriminator(8)
    real = torch.rand(2, 3, 64, 64) * 2 - 1
    fake = real.clone()
    fake[..., :, :24] = torch.rand(2, 3, 64, 24) * 2 - 1  # only the left part is made up
    hole = torch.zeros(2, 1, 64, 64)
    hole[..., :, :24] = 1
    scores = net(real)
    weights = patch_weights(scores, hole)
    assert weights.shape == scores.shape and weights[..., -1].max() == 0 and weights[..., 0].min() == 1
    # changing the image where nothing is judged leaves the weighted generator loss alone
    elsewhere = fake.clone()
    elsewhere[..., :, 48:] = -1
    assert torch.equal(generator_loss(net, fake, hole), generator_loss(net, elsewhere, hole))
    assert not torch.equal(generator_loss(net, fake), generator_loss(net, elsewhere))
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    logged = discriminator_update(net, optimiser, real, fake, 0.9, 0.0, hole)
    assert set(logged) == {"d_loss", "d_real", "d_fake"} and torch.isfinite(logged["d_loss"])
