"""The classical fill completion networks start from, and the baselines the study scores."""

from __future__ import annotations

import torch

from dynamicnet.data.masks import centre_square
from dynamicnet.tasks.completion import model as completion
from dynamicnet.tasks.completion.baselines import classical_fills
from dynamicnet.tasks.completion.classical import smooth_fill


def _ramp(h: int = 40, w: int = 56) -> torch.Tensor:
    """Colours that change linearly across the image: a harmonic fill continues them exactly."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    return torch.stack([xx, yy, 0.5 * (xx + yy)])[None]


def test_the_smooth_fill_keeps_known_pixels_and_continues_a_ramp():
    x = _ramp()
    mask = centre_square(40, 56, 0.5)[None]
    done = smooth_fill(x, mask)
    assert torch.equal(done[mask.expand_as(x) < 0.5], x[mask.expand_as(x) < 0.5])
    hole = mask.expand_as(x) > 0.5
    assert (done - x)[hole].abs().max() < 0.02  # a blurred or flat fill would be off by 0.1 or more
    flat = torch.full_like(x, 0.3)
    assert torch.allclose(smooth_fill(flat, mask), flat, atol=1e-6)


def test_a_fresh_prefilled_network_is_close_to_the_smooth_fill():
    """Training starts from the classical answer: at its first step the network adds little."""
    torch.manual_seed(0)
    model = completion.build(completion.default_config(8, prefill="smooth")).eval()
    x = torch.rand(2, 3, 32, 40)
    mask = centre_square(32, 40, 0.5)[None].expand(2, 1, 32, 40)
    with torch.no_grad():
        done = model(x, alpha=0.0, mask=mask)
    gap = (done - smooth_fill(x, mask)).abs()
    assert gap.max() < 0.05  # a fresh network without the prefill is off by 0.3 in places
    assert "prefill" not in completion.default_config(8)  # older files read as they were written


def test_classical_baselines_fill_only_the_hole():
    x = torch.rand(2, 3, 48, 48)
    mask = centre_square(48, 48, 0.4)[None].expand(2, 1, 48, 48).contiguous()
    fills = classical_fills()
    assert {"smooth fill (ours)", "OpenCV Telea", "OpenCV Navier-Stokes", "PatchMatch"} <= set(fills)
    for name, fill in fills.items():
        done = fill(x, mask)
        assert done.shape == x.shape, name
        known = mask.expand_as(x) < 0.5
        assert torch.equal(done[known], x[known]), name
        assert (done[~known] - x[~known]).abs().mean() > 0, name  # the hole was filled, not left as it was
