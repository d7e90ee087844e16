"""The public style model: any input size, unclamped output, spatial maps aligned with padding."""

from __future__ import annotations

import pytest
import torch

from dynamicnet.core import AlphaError
from dynamicnet.tasks.style import model as style


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = style.build(style.default_config()).eval()
    with torch.no_grad():
        for p in m.net.block_parameters():
            p.normal_(0, 0.05)
    return m


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (3, 200), (5, 7), (33, 17), (64, 64), (127, 130)])
def test_any_size_returns_the_input_size(model, size):
    x = torch.rand(1, 3, *size)
    with torch.no_grad():
        for alpha in (0.0, 1.0):
            y = model(x, alpha=alpha)
            assert y.shape == x.shape and torch.isfinite(y).all()


def test_multiples_of_four_need_no_padding(model):
    """With no padding the public model is exactly normalise -> network -> de-normalise."""
    x = torch.rand(1, 3, 32, 24)
    mean, std = model.norm.mean, model.norm.std
    with torch.no_grad():
        expected = model.net((x - mean) / std, alpha=0.7) * std + mean
        assert torch.equal(model(x, alpha=0.7), expected)


def test_output_is_not_clamped():
    m = style.build(style.default_config()).eval()
    with torch.no_grad():
        m.net.base.out.bias.copy_(torch.tensor([10.0, -10.0, 0.0]))
        y = m(torch.rand(1, 3, 16, 16))
    assert y[:, 0].min() > 1 and y[:, 1].max() < 0


def test_spatial_map_must_match_the_image(model):
    with pytest.raises(AlphaError, match="spatial alpha map"):
        model(torch.rand(1, 3, 16, 16), alpha=torch.ones(1, 1, 8, 8))


def test_input_must_be_rgb_batch(model):
    with pytest.raises(ValueError, match="N, 3, H, W"):
        model(torch.rand(3, 16, 16))
