"""ONNX export: onnxruntime matches the PyTorch model at any size, batch and alpha, with alpha as inputs."""

from __future__ import annotations

import functools
import json
import warnings

import numpy as np
import onnx
import pytest
import torch

from dynamicnet.errors import DynamicNetError
from dynamicnet.export import ExportError, alpha_input_names, export_onnx
from dynamicnet.io.model_file import save_model
from dynamicnet.tasks.style import model as style

ort = pytest.importorskip("onnxruntime")

SETS = {"single": None, "dual": None, "multi": ["starry", "wave"]}
BLOCKS = ["block0", "block1", "block2"]
TOL = 1e-4


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@functools.cache
def make_model(variant: str) -> style.StyleModel:
    """A random style model whose tuning blocks are far from zero (fresh blocks may output 0)."""
    torch.manual_seed(0)
    model = style.build(style.default_config(variant, SETS[variant])).eval()
    with torch.no_grad():
        for p in model.net.block_parameters():
            p.normal_(0, 0.05)
    return model


def session(path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # tiny images; threads that spin would slow torch down
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module", params=[(v, s) for v in SETS for s in (False, True)], ids=str)
def exported(request, tmp_path_factory):
    variant, shared = request.param
    model = make_model(variant)
    path = tmp_path_factory.mktemp("onnx") / f"{variant}.onnx"
    report = export_onnx(model, path, shared_alpha=shared)
    return model, shared, session(path), report


def run(sess, image: torch.Tensor, alphas: dict[str, float | list[float]]) -> torch.Tensor:
    feeds = {"image": image.numpy()}
    feeds.update({name: np.atleast_1d(np.asarray(v, np.float32)) for name, v in alphas.items()})
    return torch.from_numpy(sess.run(["stylized"], feeds)[0])


def assert_matches(got: torch.Tensor, model, image: torch.Tensor, alpha) -> None:
    """onnxruntime's output equals the PyTorch model's at ``alpha`` (any Python API form)."""
    with torch.no_grad():
        torch.testing.assert_close(got, model(image, alpha=alpha), rtol=0, atol=TOL)


def feeds_and_alpha(variant: str, shared: bool, values: list[float]):
    """The graph's alpha inputs and the same alpha in the Python API's form, from values in
    input order (sets, then blocks)."""
    names = alpha_input_names(make_model(variant), shared)
    feeds = dict(zip(names, values, strict=True))
    if variant != "multi":
        return feeds, (values[0] if shared else list(values))
    sets = SETS["multi"]
    if shared:
        return feeds, dict(zip(sets, values, strict=True))
    return feeds, {s: values[3 * i : 3 * i + 3] for i, s in enumerate(sets)}


def test_report_and_input_names(exported):
    model, shared, sess, report = exported
    variant = model.variant
    expected = {
        ("single", False): ["alpha_block0", "alpha_block1", "alpha_block2"],
        ("dual", False): ["alpha_block0", "alpha_block1", "alpha_block2"],
        ("multi", False): [f"alpha_{s}_{b}" for s in ("starry", "wave") for b in BLOCKS],
        ("single", True): ["alpha"],
        ("dual", True): ["alpha"],
        ("multi", True): ["alpha_starry", "alpha_wave"],
    }[(variant, shared)]
    inputs = sess.get_inputs()
    assert [i.name for i in inputs] == ["image", *expected] == list(report.inputs)
    assert inputs[0].shape == ["batch", 3, "height", "width"] and inputs[0].type == "tensor(float)"
    assert all(len(i.shape) == 1 and isinstance(i.shape[0], str) for i in inputs[1:])
    assert [o.name for o in sess.get_outputs()] == ["stylized"]
    assert report.opset == 17 and len(report.checks) == 2 and report.max_abs_diff < TOL
    meta = json.loads(onnx.load(str(report.path)).metadata_props[0].value)
    assert meta["variant"] == variant and meta["alpha_inputs"] == expected


def alpha_cases(variant: str, n_inputs: int) -> list[list[float]]:
    """Zero, one value everywhere, and a different value per input (mixed signs for dual)."""
    spread = np.linspace(-0.9, 0.8, n_inputs) if variant == "dual" else np.linspace(0.15, 1.0, n_inputs)
    top = -1.0 if variant == "dual" else 1.0
    return [[0.0] * n_inputs, [top] * n_inputs, [float(v) for v in spread]]


@pytest.mark.parametrize("size", [(37, 50), (64, 64), (5, 6)])
def test_matches_pytorch_at_any_size_and_alpha(exported, size):
    model, shared, sess, report = exported
    torch.manual_seed(1)
    image = torch.rand(1, 3, *size)
    outputs = []
    for values in alpha_cases(model.variant, len(report.inputs) - 1):
        feeds, alpha = feeds_and_alpha(model.variant, shared, values)
        got = run(sess, image, feeds)
        assert got.shape == image.shape
        assert_matches(got, model, image, alpha)
        outputs.append(got)
    # the blocks matter, so the comparisons above are not all the base model
    assert (outputs[1] - outputs[0]).abs().max() > 1e-2


def test_alpha_zero_is_the_base_model(exported):
    model, _, sess, report = exported
    image = torch.rand(2, 3, 40, 33)
    zeros = dict.fromkeys(report.inputs[1:], 0.0)
    assert_matches(run(sess, image, zeros), model, image, 0.0)


def test_per_sample_alpha_in_a_batch(exported):
    """Alpha inputs of shape (N,) apply per image, and mix with (1,) inputs."""
    model, shared, sess, report = exported
    torch.manual_seed(2)
    image = torch.rand(2, 3, 29, 44)
    n = len(report.inputs) - 1
    first = [float(v) for v in np.linspace(0.2, 0.9, n)]
    second = [-v if model.variant == "dual" else 1 - v for v in first]
    if n > 1:
        second[0] = first[0]  # fed as shape (1,), beside inputs of shape (2,)
    feeds = {
        name: [a] if a == b else [a, b] for name, a, b in zip(report.inputs[1:], first, second, strict=True)
    }
    assert any(len(v) == 2 for v in feeds.values())
    got = run(sess, image, feeds)
    for i, values in enumerate((first, second)):
        _, alpha = feeds_and_alpha(model.variant, shared, values)
        assert_matches(got[i : i + 1], model, image[i : i + 1], alpha)


def test_export_is_quiet(tmp_path, capfd):
    """No Python warnings from the export and no onnxruntime warnings, even at verbose logging."""
    model = make_model("dual")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export_onnx(model, tmp_path / "m.onnx", check=False)
    assert [str(w.message) for w in caught] == []
    capfd.readouterr()
    options = ort.SessionOptions()
    options.log_severity_level = 0  # verbose: everything onnxruntime would say
    options.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), options, providers=["CPUExecutionProvider"])
    run(sess, torch.rand(1, 3, 37, 50), dict.fromkeys(alpha_input_names(model), 0.5))
    err = capfd.readouterr().err
    assert "[I:onnxruntime" in err  # the logging really was on and captured
    assert "[W:onnxruntime" not in err and "[E:onnxruntime" not in err


@pytest.mark.parametrize("opset", [13, 20])  # the oldest and newest accepted; 17 is the default above
def test_exports_a_model_file(tmp_path, opset):
    saved = save_model(make_model("single"), tmp_path / "m.safetensors")
    report = export_onnx(saved, tmp_path / "out" / "m.onnx", shared_alpha=True, opset=opset)
    assert report.path.is_file() and report.inputs == ("image", "alpha") and report.max_abs_diff < TOL
    assert onnx.load(str(report.path)).opset_import[0].version == opset


def test_user_errors_are_one_line(tmp_path):
    model = make_model("single")
    (tmp_path / "a_file").write_text("x")
    cases = [
        (lambda: export_onnx(torch.nn.Conv2d(3, 3, 1), tmp_path / "x.onnx"), "style models"),
        (lambda: export_onnx(model, tmp_path / "a_file" / "x.onnx", check=False), "not a folder"),
        (lambda: export_onnx(model, tmp_path, check=False), "cannot write"),
        (lambda: export_onnx(model, tmp_path / "x.onnx", opset=9), "opset 9"),
        (lambda: export_onnx(model, tmp_path / "x.onnx", opset=17.0), "opset 17.0"),
        (lambda: export_onnx(tmp_path / "missing.safetensors", tmp_path / "x.onnx"), "no such model file"),
    ]
    for call, match in cases:
        with pytest.raises(DynamicNetError, match=match) as info:
            call()
        assert "\n" not in str(info.value)
    assert not (tmp_path / "x.onnx").exists()
    assert issubclass(ExportError, DynamicNetError)
