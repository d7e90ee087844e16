"""The classical fill completion networks start from, and the baselines the study scores."""

from __future__ import annotations

import sys

import pytest
import torch

from dynamicnet.data.masks import centre_square
from dynamicnet.tasks.completion import model as completion
from dynamicnet.tasks.completion.baselines import classical_fills
from dynamicnet.tasks.completion.classical import PatchMatchUnavailable, patchmatch_fill, smooth_fill


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
    assert (done - x)[
        hole
    ].abs().max() < 1e-3  # converged: stopped early it was off by 0.01, a flat fill by 0.1
    flat = torch.full_like(x, 0.3)
    assert torch.allclose(smooth_fill(flat, mask), flat, atol=1e-6)


def test_the_smooth_fill_is_the_harmonic_fill():
    """Each missing pixel the mean of its four neighbours, solved here by plain relaxation
    run to the end: the fill's coarse-to-fine solve gets there (24 plain steps per level
    were 0.05 off on this noise, and 0.4 dB short on held-out photos' holes)."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 32, 32)
    mask = centre_square(32, 32, 0.5)[None]
    harmonic = torch.where(mask > 0.5, 0.5, x)
    for _ in range(20000):
        edged = torch.nn.functional.pad(harmonic, (1, 1, 1, 1), mode="replicate")
        around = (
            edged[..., :-2, 1:-1] + edged[..., 2:, 1:-1] + edged[..., 1:-1, :-2] + edged[..., 1:-1, 2:]
        ) / 4
        harmonic = torch.where(mask > 0.5, around, x)
    assert (smooth_fill(x, mask) - harmonic).abs().max() < 0.02


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


def _stripes(h: int = 48, w: int = 48) -> torch.Tensor:
    """Vertical stripes, 4 pixels wide: a texture PatchMatch can continue and diffusion cannot."""
    xx = torch.arange(w).view(1, w).expand(h, w)
    on = ((xx // 4) % 2).float()
    return torch.stack([0.1 + 0.8 * on, 0.2 + 0.5 * on, 0.9 - 0.7 * on])[None]


def test_patchmatch_continues_a_texture_the_same_way_every_time():
    x = _stripes()
    mask = centre_square(48, 48, 0.4)[None]
    done = patchmatch_fill(x, mask)
    known = mask.expand_as(x) < 0.5
    assert torch.equal(done[known], x[known])
    hole = ~known
    assert (done - x)[hole].abs().mean() < 0.1  # the stripes go on (copied patches, not exact phase)
    assert (smooth_fill(x, mask) - x)[hole].abs().mean() > 0.2  # diffusion blurs them to grey
    assert torch.equal(patchmatch_fill(x, mask), done)  # its random search is reseeded per image


def test_where_patchmatch_finds_no_patch_the_smooth_fill_stands_in():
    """A thin strip left known vanishes from PatchMatch's coarse levels, and it left half the
    hole near-black; its fill is a mean of known pixels, so nothing darker may come out."""
    torch.manual_seed(0)
    x = 0.35 + 0.4 * torch.rand(1, 3, 32, 64)
    mask = torch.ones(1, 1, 32, 64)
    mask[..., -2:] = 0
    done = patchmatch_fill(x, mask)
    hole = mask.expand_as(x) > 0.5
    assert done[hole].min() >= 0.35 - 1 / 255
    assert torch.equal(done[~hole], x[~hole])
    texture, hole = _stripes(), centre_square(48, 48, 0.4)[None]  # where PatchMatch works, its stripes stay
    assert (patchmatch_fill(texture, hole) - smooth_fill(texture, hole)).abs().max() > 0.5


def test_a_fresh_patchmatch_network_starts_from_the_mean_of_both_fills():
    """Its per-pixel weights of the two fills start equal; training moves them."""
    torch.manual_seed(0)
    model = completion.build(completion.default_config(8, prefill="patchmatch")).eval()
    x = torch.rand(2, 3, 30, 38)  # padded to a multiple of 4 inside, cropped back
    mask = centre_square(30, 38, 0.5)[None].expand(2, 1, 30, 38)
    with torch.no_grad():
        done = model(x, alpha=0.0, mask=mask)
    both = (smooth_fill(x, mask) + patchmatch_fill(x, mask)) / 2
    assert (done - both).abs().max() < 0.05
    assert model.net.base.encode1.conv.in_channels == 7  # it sees both fills and the mask
    assert model.net.base.out.out_channels == 5  # colours, and a weight for each fill


def test_without_patchmatch_the_message_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "patchmatch", None)
    x, mask = torch.rand(1, 3, 16, 16), centre_square(16, 16, 0.5)[None]
    with pytest.raises(PatchMatchUnavailable, match=r"pip install --force-reinstall .*PyPatchMatch"):
        patchmatch_fill(x, mask)


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


def test_patchmatch_runs_once_per_image_and_hole_across_alphas(monkeypatch):
    """Choosing alpha fills one image at many alphas: the classical start is computed once."""
    calls = []
    real = completion.PREFILLS["patchmatch"][1]
    counted = lambda x, mask: calls.append(1) or real(x, mask)  # noqa: E731
    monkeypatch.setitem(completion.PREFILLS, "patchmatch", (smooth_fill, counted))
    model = completion.build(completion.default_config(8, prefill="patchmatch")).eval()
    x = torch.rand(1, 3, 24, 24)
    mask, other = centre_square(24, 24, 0.5)[None], centre_square(24, 24, 0.25)[None]
    with torch.no_grad():
        first = [model(x, alpha=a, mask=mask) for a in (0.0, 0.5, 1.0)]
        model(x, alpha=0.5, mask=other)
        again = model(x, alpha=0.0, mask=mask)  # the last two holes are kept
        assert len(calls) == 2
        model(x + 0.01, alpha=0.0, mask=mask)  # another image: computed again
        assert len(calls) == 3
    assert torch.equal(again, first[0])
    model.train()
    model(x, alpha=0.0, mask=centre_square(24, 24, 0.3)[None])
    model(x, alpha=0.0, mask=centre_square(24, 24, 0.3)[None])
    assert len(calls) == 5  # training never reuses a start: every batch is new


def test_a_hole_in_a_large_photo_gets_full_size_texture():
    """The network weighs its fills at its working scale; the fills it weighs are made at
    full size, so fine texture the working scale cannot hold still fills the hole."""
    from dynamicnet.inference.working_point import detail_in
    from dynamicnet.tasks.completion.model import complete

    model = completion.build(completion.default_config(8, prefill="patchmatch")).eval()
    model.config["recipe"] = {"data": {"photos": "p", "crop": 16, "resize": 24}}
    x = torch.full((1, 3, 96, 96), 0.2)
    x[..., ::2] = 0.8  # stripes one pixel wide: at 24 px they average to a flat grey
    mask = centre_square(96, 96, 0.3)[None]
    texture = {}
    for trusted, bias in (("patchmatch", [-8.0, 8.0]), ("smooth", [8.0, -8.0])):
        with torch.no_grad():
            model.net.base.out.weight.zero_()
            model.net.base.out.bias.copy_(torch.tensor([0.0, 0.0, 0.0, *bias]))
        done = complete(model, x, mask, alpha=0.0)
        known = mask.expand_as(x) < 0.5
        assert torch.equal(done[known], x[known])
        texture[trusted] = float(detail_in(done, mask)[0] / detail_in(x, mask)[0])
    assert texture["patchmatch"] > 0.8 and texture["smooth"] < 0.2


def test_a_batch_fills_each_image_as_it_would_alone():
    from dynamicnet.tasks.completion.model import complete

    torch.manual_seed(0)
    model = completion.build(completion.default_config(8, prefill="patchmatch")).eval()
    model.config["recipe"] = {"data": {"photos": "p", "crop": 16, "resize": 24}}
    x = torch.rand(2, 3, 64, 200)
    mask = torch.zeros(2, 1, 64, 200)
    mask[0, :, 5:9, 5:9] = 1  # far apart: the classical fills are made around each hole
    mask[1, :, 50:54, 180:184] = 1
    both = complete(model, x, mask, alpha=0.5)
    for i in range(2):
        alone = complete(model, x[i : i + 1], mask[i : i + 1], alpha=0.5)
        assert (both[i : i + 1] - alone).abs().max() < 1e-5  # the network batched: rounding only
    for side in (0, 7):  # a fill made smaller than the network's padding says nothing
        with pytest.raises(ValueError, match=f"side {side}"):
            complete(model, x, mask, side=side)
