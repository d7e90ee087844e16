"""Convert VGG16 convolutions from other frameworks into our :class:`VGG16Features`.

Every source had its own preprocessing. We fold it into the first convolution so that
every converted network takes the same ImageNet-normalised RGB input:

    source_input[c] = a[c] * rgb[c] + b[c]       (rgb in [0, 1], in the source's channel order)
    rgb[c] = std[c] * x[c] + mean[c]             (x: our input)

so the first layer's weights are multiplied by ``a * std`` (and re-ordered), its bias
absorbs ``a * mean + b``, and it pads with the x that the source maps to 0.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..networks.vgg import _LAYOUT, IMAGENET_MEAN, IMAGENET_STD, PerceptualWeightsError, VGG16Features

N_CONVS = sum(1 for item in _LAYOUT if item != "M")  # 10: conv1_1 .. conv4_3


@dataclass(frozen=True)
class Preprocessing:
    """``source_input = scale * rgb01 + offset`` per RGB channel, fed in ``order``."""

    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    order: str = "RGB"  # or "BGR"


IMAGENET_NORMALISED = Preprocessing(
    scale=tuple(1.0 / s for s in IMAGENET_STD),
    offset=tuple(-m / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)),
)
# Caffe VGG / HED: BGR, 0-255, per-channel mean subtracted (means given here in RGB order).
CAFFE_HED = Preprocessing(
    scale=(255.0, 255.0, 255.0), offset=(-122.67892, -116.66877, -104.00699), order="BGR"
)
RGB_01 = Preprocessing()


def build_vgg(convs: list[tuple[Tensor, Tensor]], pre: Preprocessing) -> VGG16Features:
    """A VGG16Features from 10 (weight OIHW, bias) pairs of a network with preprocessing ``pre``."""
    if len(convs) < N_CONVS:
        raise PerceptualWeightsError(f"found {len(convs)} convolutions, VGG16 up to conv4_3 needs {N_CONVS}")
    vgg = VGG16Features()
    conv_layers = [m for m in vgg.features if isinstance(m, torch.nn.Conv2d)]
    for layer, (weight, bias) in zip(conv_layers, convs[:N_CONVS]):
        if tuple(weight.shape) != tuple(layer.weight.shape) or tuple(bias.shape) != tuple(layer.bias.shape):
            raise PerceptualWeightsError(
                f"convolution shapes {tuple(weight.shape)} / {tuple(bias.shape)} do not match VGG16's "
                f"{tuple(layer.weight.shape)}"
            )
    weights = [(w.detach().double(), b.detach().double()) for w, b in convs[:N_CONVS]]
    if pre == IMAGENET_NORMALISED:  # nothing to fold: copy exactly
        with torch.no_grad():
            for layer, (w, b) in zip(conv_layers, convs[:N_CONVS]):
                layer.weight.copy_(w)
                layer.bias.copy_(b)
        return vgg
    w0, b0 = weights[0]
    if pre.order == "BGR":
        w0 = w0.flip(1)  # source channel 0 is blue: re-order to act on RGB
    elif pre.order != "RGB":
        raise ValueError(f"unknown channel order {pre.order!r}")
    scale = torch.tensor(pre.scale, dtype=torch.float64)
    offset = torch.tensor(pre.offset, dtype=torch.float64)
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float64)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float64)
    gain = scale * std  # source_input = gain * x + shift
    shift = scale * mean + offset
    weights[0] = (w0 * gain.view(1, 3, 1, 1), b0 + (w0 * shift.view(1, 3, 1, 1)).sum(dim=(1, 2, 3)))
    with torch.no_grad():
        for layer, (w, b) in zip(conv_layers, weights):
            layer.weight.copy_(w.float())
            layer.bias.copy_(b.float())
        vgg.input_pad.copy_((-shift / gain).float())
    return vgg


# --- readers for each file layout -------------------------------------------------------
def convs_from_torchvision(state: dict) -> list[tuple[Tensor, Tensor]]:
    """torchvision ``features.N.weight/bias`` (already ImageNet-normalised input)."""
    if not isinstance(state, dict):
        raise PerceptualWeightsError(f"holds a {type(state).__name__}, not a state dict")
    indices = sorted(
        {
            int(m.group(1))
            for k in state
            if isinstance(k, str) and (m := re.match(r"^features\.(\d+)\.weight$", k))
        }
    )
    convs = []
    for i in indices:
        weight, bias = state.get(f"features.{i}.weight"), state.get(f"features.{i}.bias")
        if not isinstance(weight, Tensor) or not isinstance(bias, Tensor):
            raise PerceptualWeightsError(f"features.{i} lacks a weight or bias tensor")
        if weight.dim() == 4:  # skip BatchNorm layers of vgg16_bn: not the network we need
            convs.append((weight, bias))
    if len(convs) != len(indices):
        raise PerceptualWeightsError("has BatchNorm layers (vgg16_bn); the losses need plain VGG16")
    return convs


def _layer_order(name: str) -> tuple[str, int]:
    """Keras names layers conv2d, conv2d_1, conv2d_2 ...: sort by the number."""
    stem, _, number = name.rpartition("_")
    return (stem, int(number)) if number.isdigit() and stem else (name, 0)


def convs_from_keras_h5(data: bytes) -> list[tuple[Tensor, Tensor]]:
    """Keras 3 ``.weights.h5``: ``block{1..5}/layers/conv2d[_k]/vars/{0: HWIO kernel, 1: bias}``."""
    import h5py

    try:
        fh = h5py.File(io.BytesIO(data), "r")
    except OSError as err:
        raise PerceptualWeightsError(f"not an HDF5 file ({err})") from err
    convs = []
    with fh:
        for block in sorted((k for k in fh if re.fullmatch(r"block\d+", k)), key=lambda k: int(k[5:])):
            layers = fh[block].get("layers")
            if layers is None:
                continue
            for name in sorted((k for k in layers if k.startswith("conv2d")), key=_layer_order):
                variables = layers[name]["vars"]
                kernel = np.asarray(variables["0"], dtype=np.float32)  # (kh, kw, cin, cout)
                bias = np.asarray(variables["1"], dtype=np.float32)
                convs.append((torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()), torch.from_numpy(bias)))
    return convs


def convs_from_onnx(data: bytes) -> list[tuple[Tensor, Tensor]]:
    """ONNX: the Conv nodes in graph order; ONNX stores kernels as OIHW whatever the input layout."""
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load_model_from_string(data)
    except Exception as err:  # noqa: BLE001 - protobuf raises several types
        raise PerceptualWeightsError(f"not an ONNX model ({err})") from err
    initializers = {t.name: t for t in model.graph.initializer}
    convs = []
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        if len(node.input) < 3 or node.input[1] not in initializers or node.input[2] not in initializers:
            raise PerceptualWeightsError(f"Conv node {node.name!r} has no constant weight and bias")
        weight = numpy_helper.to_array(initializers[node.input[1]]).astype(np.float32)
        bias = numpy_helper.to_array(initializers[node.input[2]]).astype(np.float32)
        convs.append((torch.from_numpy(weight.copy()), torch.from_numpy(bias.copy())))
    return convs
