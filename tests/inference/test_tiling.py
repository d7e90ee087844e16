"""Piecewise rendering of big images: same result as a whole render, bounded pieces."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dynamicnet.inference import Renderer
from dynamicnet.inference.tiling import Layer, plan_segments, receptive_radius, tile_windows


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.clamp(0, 1) - b.clamp(0, 1)).square().mean()
    return float(10 * torch.log10(1 / mse)) if mse > 0 else math.inf


@pytest.mark.parametrize(
    ("keep_bytes", "plan"),
    [
        (1, "down1-out in tiles"),
        (1_000_000, "down1-down2 in tiles, down3-res5 whole, up1 in tiles, up2-out in tiles"),
    ],
)  # fmt: skip
def test_fp32_piecewise_matches_the_whole_render(keep_bytes, plan, make_model, make_image):
    model = make_model("dual")
    whole = Renderer(model, precision="fp32")
    tiled = Renderer(model, precision="fp32", max_pixels=1, keep_bytes=keep_bytes, tile=48)  # 2 x 2 tiles
    x = make_image(n=2, h=70, w=93)
    for alpha in (-0.7, torch.tensor([0.2, 1.0]), [1.0, -0.5, 0.3]):
        y = tiled(x, alpha)
        assert tiled.last_plan == plan
        assert torch.allclose(y, whole(x, alpha), atol=2e-5), alpha


def test_piecewise_with_a_spatial_alpha_map_and_bf16(make_model, make_image):
    model = make_model()
    x = make_image(h=64, w=96)
    ramp = torch.linspace(0, 1, 96).expand(1, 1, 64, 96)
    exact = Renderer(model, precision="fp32")(x, ramp)
    tiled_fp32 = Renderer(model, precision="fp32", max_pixels=1, keep_bytes=100_000, tile=32)
    assert psnr(tiled_fp32(x, ramp), exact) > 60
    tiled_bf16 = Renderer(model, precision="bf16", max_pixels=1, keep_bytes=100_000, tile=32)
    assert psnr(tiled_bf16(x, ramp), Renderer(model, precision="bf16")(x, ramp)) > 40


def test_tiles_cover_the_image_once():
    seen = torch.zeros(50, 70, dtype=torch.int32)
    for (top, bottom, left, right), (wt, wb, wl, wr) in tile_windows(50, 70, tile=16, halo=4):
        seen[top:bottom, left:right] += 1
        assert wt <= top and wb >= bottom and wl <= left and wr >= right
        assert wt >= 0 and wb <= 50 and wl >= 0 and wr <= 70
    assert bool((seen == 1).all())


def test_segments_cut_where_activations_fit():
    layers = [
        Layer(nn.Identity(), 1.0, 32),  # 32 x 100 x 100 x 4 bytes = 1.28 MB
        Layer(nn.Identity(), 0.25, 128),  # 0.32 MB
        Layer(nn.Identity(), 0.25, 128),
        Layer(nn.Identity(), 1.0, 3),  # 0.12 MB
    ]
    segments = plan_segments(layers, 100, 100, batch=1, itemsize=4, keep_bytes=700_000)
    assert [(s.start, s.stop, s.tiled) for s in segments] == [(0, 2, True), (2, 3, False), (3, 4, False)]
    everything = plan_segments(layers, 100, 100, batch=1, itemsize=4, keep_bytes=10)
    assert [(s.start, s.stop, s.tiled) for s in everything] == [(0, 4, True)]


def test_receptive_radius_of_a_known_stack():
    stack = nn.Sequential(nn.Conv2d(3, 4, 5, padding=2), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
    assert receptive_radius(stack, channels=3, multiple=1, dtype=torch.float32, device="cpu") == 3
    strided = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.Conv2d(4, 4, 3, padding=1))
    assert receptive_radius(strided, channels=3, multiple=2, dtype=torch.float32, device="cpu") in (3, 4)


def test_receptive_radius_is_found_behind_an_output_relu_that_is_off_for_some_inputs():
    """One random input leaves the centre pixel's ReLU off about half the time (no gradient)."""
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 1, 5, padding=2)
    dead = 0
    for seed in range(8):
        torch.manual_seed(seed)
        with torch.no_grad():
            dead += float(conv(torch.randn(1, 3, 16, 16))[0, 0, 8, 8]) <= 0
        torch.manual_seed(seed)
        stack = nn.Sequential(conv, nn.ReLU())
        assert receptive_radius(stack, channels=3, multiple=1, dtype=torch.float32, device="cpu") == 2
    assert dead > 0  # the case the test is about came up


def test_receptive_radius_of_a_network_that_ignores_its_input_is_a_clear_error():
    with pytest.raises(RuntimeError, match="receptive field"):
        receptive_radius(lambda x: x * 0, channels=3, multiple=1, dtype=torch.float32, device="cpu")
