"""The fast style network: the same contract as the Johnson network everywhere a style model goes."""

from __future__ import annotations

import math

import numpy as np
import onnxruntime as ort
import pytest
import torch

import dynamicnet
from dynamicnet.export import export_onnx
from dynamicnet.inference import Renderer
from dynamicnet.networks.blocks import ConvTuningBlock
from dynamicnet.tasks.style import model as style

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def fast_model(variant: str = "single", sets=None) -> style.StyleModel:
    torch.manual_seed(0)
    model = style.build(style.default_config(variant, sets, architecture="fast-transformer"))
    with torch.no_grad():
        for p in model.net.block_parameters():
            p.normal_(0, 0.1)
    return model.eval()


def image(h: int = 37, w: int = 50, n: int = 1, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(seed))


def test_blocks_sit_at_low_resolution_with_two_convolutions():
    model = fast_model()
    assert model.config["architecture"] == "fast-transformer"
    assert model.config["block_type"] == "conv3x3x2"
    x = image(64, 64)
    sizes = {}
    for name, path in model.net.points.items():
        model.net.base.get_submodule(path).register_forward_hook(
            lambda m, a, out, name=name: sizes.__setitem__(name, out.shape[-1])
        )
    with torch.no_grad():
        model(x)
    assert sizes == {"block0": 16, "block1": 16, "block2": 32, "block3": 32}
    block = model.net.blocks["default"]["block0"]
    assert isinstance(block, ConvTuningBlock) and block.depth == 2
    assert sum(p.numel() for p in model.parameters()) < 400_000  # the Johnson network has 2.7M


@pytest.mark.parametrize("size", [(37, 50), (8, 8), (5, 130), (64, 64)])
def test_any_size_and_alpha_zero_is_the_base(size):
    model = fast_model()
    x = image(*size)
    with torch.no_grad():
        y = model(x, alpha=0.7)
        base = model(x, alpha=0.0)
        inside = style._pad(model.norm(x), *style._pad_amounts(*size))
        plain = model.norm.inverse(inside + model.net.base(inside))  # the fast network is residual
    assert y.shape == x.shape
    assert torch.equal(base, plain[..., : size[0], : size[1]])
    assert not torch.allclose(y, base)


def test_renderer_fp32_exact_and_bf16_close():
    model = fast_model("dual")
    x = image(n=2)
    for alpha in (-1.0, 0.3, [1.0, -0.5, 0.2, 0.6]):
        with torch.no_grad():
            expected = model(x, alpha=alpha)
        assert torch.equal(Renderer(model, precision="fp32")(x, alpha), expected)
        bf16 = Renderer(model, precision="bf16")(x, alpha)
        assert float((bf16.clamp(0, 1) - expected.clamp(0, 1)).abs().mean()) * 255 < 1.0


def test_folding_the_normalisation_keeps_the_output():
    model = fast_model()
    folded = Renderer(model, precision="fp32").model  # a private copy to fold
    folded.fold_normalisation()
    folded.fold_normalisation()  # a second call changes nothing
    x = image()
    with torch.no_grad():
        torch.testing.assert_close(folded(x, alpha=0.6), model(x, alpha=0.6), rtol=0, atol=1e-5)


def test_piecewise_render_matches_the_whole_render():
    model = fast_model()
    x = image(70, 93)
    whole = Renderer(model, precision="fp32")(x, 0.8)
    tiled = Renderer(model, precision="fp32", max_pixels=1, keep_bytes=1, tile=32)
    torch.testing.assert_close(tiled(x, 0.8), whole, rtol=0, atol=2e-5)
    bf16_whole = Renderer(model, precision="bf16")(x, 0.8)
    bf16_tiled = Renderer(model, precision="bf16", max_pixels=1, keep_bytes=1, tile=32)(x, 0.8)
    mse = float((bf16_tiled.clamp(0, 1) - bf16_whole.clamp(0, 1)).square().mean())
    assert mse == 0 or 10 * math.log10(1 / mse) > 40


def test_save_load_and_onnx_export(tmp_path):
    model = fast_model("multi", ["a", "b"])
    path = dynamicnet.save(model, tmp_path / "fast.safetensors")
    loaded = dynamicnet.load(path)
    x = image()
    alpha = {"a": 0.4, "b": 0.9}
    with torch.no_grad():
        expected = model(x, alpha=alpha)
        assert torch.equal(loaded(x, alpha=alpha), expected)
    report = export_onnx(loaded, tmp_path / "fast.onnx", shared_alpha=True)
    assert report.max_abs_diff is not None and report.max_abs_diff < 1e-3
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(report.path), options, providers=["CPUExecutionProvider"])
    assert report.inputs == ("image", "alpha_a", "alpha_b")
    feeds = {"image": x.numpy(), "alpha_a": np.full(1, 0.4, np.float32)}
    feeds["alpha_b"] = np.full(1, 0.9, np.float32)
    got = torch.from_numpy(sess.run(None, feeds)[0])
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-3)


def test_block_depth_is_checked():
    with pytest.raises(ValueError, match="at least one"):
        ConvTuningBlock(8, depth=0)
    config = style.default_config(architecture="fast-transformer")
    config["block_type"] = "conv5x5"
    with pytest.raises(ValueError, match="tuning block type"):
        style.build(config)
    config["block_type"], config["architecture"] = "conv3x3x2", "unet"
    with pytest.raises(ValueError, match="known: johnson-transformer, fast-transformer"):
        style.build(config)


def test_render_context_mirrors_the_photo_around_it(tmp_path):
    """A model with ``render_context`` renders the photo inside that much mirrored photo."""
    import torch.nn.functional as F

    model = fast_model()
    framed = fast_model()
    framed.config["render_context"] = 12
    x = image(40, 52)
    ramp = torch.linspace(0, 1, 52).expand(1, 1, 40, 52)
    with torch.no_grad():
        padded = F.pad(x, (12,) * 4, mode="reflect")
        expected = model(padded, alpha=0.7)[..., 12:52, 12:64]
        torch.testing.assert_close(framed(x, alpha=0.7), expected, rtol=0, atol=1e-5)
        assert framed(x, alpha=ramp).shape == x.shape
        assert framed(image(5, 3), alpha=0.5).shape == (1, 3, 5, 3)  # smaller than the context
    assert torch.equal(Renderer(framed, precision="fp32")(x, 0.7), framed(x, alpha=0.7))
    tiled = Renderer(framed, precision="fp32", max_pixels=1, keep_bytes=1, tile=32)
    torch.testing.assert_close(tiled(x, 0.7), framed(x, alpha=0.7), rtol=0, atol=2e-5)
    report = export_onnx(framed, tmp_path / "framed.onnx")
    assert report.max_abs_diff is not None and report.max_abs_diff < 1e-3
