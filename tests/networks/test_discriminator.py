"""The patch discriminator of the image-to-image tasks."""

import pytest
import torch

from dynamicnet.networks.discriminator import PatchDiscriminator


def test_the_instance_normalised_discriminator_scores_an_image_alone_as_in_its_batch():
    torch.manual_seed(0)
    net = PatchDiscriminator(8, norm="instance")
    x = torch.rand(3, 3, 48, 48) * 2 - 1
    assert net(x).shape == (3, 1, 6, 6)
    assert torch.allclose(net(x[1:2]), net(x)[1:2], atol=1e-6)
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in net.modules())


def test_the_plain_discriminator_keeps_its_parameter_names_and_draws():
    """Checkpoints of runs made before the option resume: no layer was added without it."""
    names = ["net.0", "net.2", "net.4", "net.6", "net.8"]
    plain = PatchDiscriminator(8).state_dict()
    assert list(plain) == [f"{n}.{p}" for n in names for p in ("weight", "bias")]
    torch.manual_seed(0)
    a = PatchDiscriminator(8, norm="none")
    torch.manual_seed(0)
    b = PatchDiscriminator(8, norm="instance")
    convs = [m for m in b.modules() if isinstance(m, torch.nn.Conv2d)]
    for p, conv in zip([m for m in a.modules() if isinstance(m, torch.nn.Conv2d)], convs):
        assert torch.equal(p.weight, conv.weight)


def test_an_unknown_norm_is_refused():
    with pytest.raises(ValueError, match="norm must be one of"):
        PatchDiscriminator(8, norm="batch")
