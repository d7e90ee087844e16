"""Renderer: same contract as the model, exact in fp32, within 1/255 in bf16, reuse across alpha."""

from __future__ import annotations

import pytest
import torch

from dynamicnet.core import AlphaError
from dynamicnet.inference import Renderer, fast_bf16, resolve_precision
from dynamicnet.inference.precision import PrecisionError


def count_calls(module: torch.nn.Module) -> list[int]:
    calls = [0]
    module.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


ALPHAS = {
    "single": [0.0, 0.6, 1.5, [0.2, 0.0, 1.0], {"block1": 0.7}, torch.tensor([0.3, 0.9])],
    "dual": [-1.0, -0.4, 0.0, 0.8, [-0.5, 0.5, 1.0]],
    "multi": [{"a": 1.0}, {"a": 0.3, "b": 0.7}, {"b": [0.0, 0.5, 1.0]}],
}


@pytest.mark.parametrize("variant", ["single", "dual", "multi"])
def test_fp32_renders_exactly_what_the_model_does(variant, make_model, make_image):
    model = make_model(variant, ["a", "b"] if variant == "multi" else None)
    renderer = Renderer(model, precision="fp32")
    x = make_image(n=2)
    for alpha in ALPHAS[variant]:
        with torch.no_grad():
            expected = model(x, alpha=alpha)
        assert torch.equal(renderer(x, alpha=alpha), expected), alpha


def test_spatial_alpha_map_and_unbatched_input(make_model, make_image):
    model = make_model()
    renderer = Renderer(model, precision="fp32")
    x = make_image(h=30, w=41)
    ramp = torch.linspace(0, 1, 41).expand(1, 1, 30, 41)
    with torch.no_grad():
        expected = model(x, alpha=ramp)
    assert torch.equal(renderer(x, alpha=ramp), expected)
    assert torch.equal(renderer(x[0], alpha=0.5), renderer(x, alpha=0.5)[0])


def test_alpha_change_reuses_the_layers_before_the_first_block_and_stays_exact(make_model, make_image):
    model = make_model()
    renderer = Renderer(model, precision="bf16")
    first_layer = count_calls(renderer.net.base.down1)
    x = make_image()
    renderer(x, alpha=0.2)
    assert first_layer[0] == 1
    again = renderer(x, alpha=0.9)
    assert first_layer[0] == 1  # only the layers after the first tuning block ran
    fresh = Renderer(model, precision="bf16")
    assert torch.equal(again, fresh(x, alpha=0.9))  # identical to a full render
    renderer(make_image(seed=5), alpha=0.9)  # another image: a new prefix
    assert first_layer[0] == 2


def test_sweep_shares_the_prefix_and_matches_single_renders(make_model, make_image):
    model = make_model("dual")
    renderer = Renderer(model, precision="fp32")
    first_layer = count_calls(renderer.net.base.down1)
    x = make_image()
    alphas = [-1.0, -0.5, 0.0, 0.5, 1.0]
    outputs = renderer.sweep(x, alphas)
    assert first_layer[0] == 1
    for alpha, y in zip(alphas, outputs):
        with torch.no_grad():
            assert torch.equal(y, model(x, alpha=alpha))


def test_prefix_cache_is_bounded(make_model, make_image):
    renderer = Renderer(make_model(), precision="fp32", cache_bytes=1)
    first_layer = count_calls(renderer.net.base.down1)
    x = make_image()
    renderer(x, alpha=0.1)
    renderer(x, alpha=0.2)
    assert first_layer[0] == 2 and not renderer._cache


def test_keyframe_previews_blend_neighbours_and_are_exact_at_keyframes(make_model, make_image):
    model = make_model("multi", ["a", "b"])
    renderer = Renderer(model, precision="fp32")
    x = make_image()
    frames = renderer.keyframes(x, [0.0, 0.5, 1.0], alpha_at=lambda t: {"a": 1 - t, "b": t})
    assert torch.equal(frames.preview(0.5), renderer(x, alpha={"a": 0.5, "b": 0.5}))
    quarter = frames.preview(0.25)
    assert torch.allclose(quarter, (frames.images[0] + frames.images[1]) / 2, atol=1e-6)
    with pytest.raises(AlphaError, match="outside"):
        frames.preview(1.2)
    with pytest.raises(AlphaError, match="two distinct"):
        renderer.keyframes(x, [0.3, 0.3])


def test_bf16_stays_within_one_level_of_fp32_on_trained_models(trained_style_models, make_image):
    x = make_image(h=64, w=80)
    for model in trained_style_models:
        exact = Renderer(model, precision="fp32")
        fast = Renderer(model, precision="bf16")
        for alpha in (0.0, 0.5, 1.0):
            diff = (fast(x, alpha).clamp(0, 1) - exact(x, alpha).clamp(0, 1)).abs().mean()
            assert diff <= 1 / 255, (alpha, float(diff) * 255)


def test_bad_input_and_alpha_fail_before_any_work(make_model, make_image):
    renderer = Renderer(make_model(), precision="fp32")
    with pytest.raises(ValueError, match="RGB"):
        renderer(torch.rand(1, 1, 20, 20))
    with pytest.raises(AlphaError, match="3 blocks"):
        renderer(make_image(), alpha=[0.1, 0.2])
    with pytest.raises(TypeError, match="prepare"):
        Renderer(torch.nn.Conv2d(3, 3, 1))


def test_precision_choices(make_model):
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32"
    assert resolve_precision("auto", cpu) == ("bf16" if fast_bf16(cpu) else "fp32")
    with pytest.raises(PrecisionError, match="one of"):
        resolve_precision("fp16", cpu)
    assert Renderer(make_model(), precision="auto").precision == resolve_precision("auto", cpu)


def test_threads_share_one_renderer(make_model, make_image):
    from concurrent.futures import ThreadPoolExecutor

    renderer = Renderer(make_model(), precision="fp32")
    images = [make_image(seed=s) for s in range(3)]
    jobs = [(x, a) for x in images for a in (0.0, 0.5, 1.0)]
    expected = [Renderer(make_model(), precision="fp32")(x, a) for x, a in jobs]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda job: renderer(*job), jobs))
    assert all(torch.equal(r, e) for r, e in zip(results, expected))


def test_blocks_on_nested_submodules_are_not_cached_away(make_image):
    from dynamicnet.tasks.style import model as style

    config = style.default_config()
    config["blocks"] = {"b0": {"at": "res1.conv2", "channels": 128}, "b1": {"at": "res3", "channels": 128}}
    torch.manual_seed(0)
    model = style.build(config).eval()
    with torch.no_grad():
        for p in model.net.block_parameters():
            p.normal_(0, 0.05)
        expected = model(make_image(), alpha=1.0)
    renderer = Renderer(model, precision="fp32")
    assert torch.equal(renderer(make_image(), alpha=1.0), expected)
    assert torch.equal(renderer(make_image(), alpha=1.0), expected)  # from the cache


def test_piecewise_and_whole_renders_share_a_renderer_across_threads(make_model, make_image):
    from concurrent.futures import ThreadPoolExecutor

    model = make_model()
    renderer = Renderer(model, precision="fp32", max_pixels=60 * 60, keep_bytes=100_000, tile=32)
    big, small = make_image(h=72, w=96), make_image(h=30, w=30, seed=4)
    with torch.no_grad():
        expected = {72: model(big, alpha=0.6), 30: model(small, alpha=0.6)}
    jobs = [big, small, small, small, big, small, small]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda x: renderer(x, alpha=0.6), jobs))
    for x, y in zip(jobs, results):
        assert torch.allclose(y, expected[x.shape[-2]], atol=2e-5)


def test_output_is_contiguous_and_non_float_input_is_refused(make_model, make_image):
    renderer = Renderer(make_model(), precision="bf16")
    assert renderer(make_image(), alpha=0.5).is_contiguous()
    with pytest.raises(ValueError, match="uint8"):
        renderer((make_image() * 255).to(torch.uint8))
    with pytest.raises(ValueError, match="torch.Tensor"):
        renderer(make_image().numpy())
    with pytest.raises(ValueError, match="tile"):
        Renderer(make_model(), tile=-5)
