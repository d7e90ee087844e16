"""ONNX export of style models, with alpha kept as inputs of the graph.

One exported file serves every alpha: each alpha value is a float input, every tuning
block always runs, and its term is ``alpha * psi(z)`` (so alpha = 0 gives the base
output, up to float rounding). The public :class:`~dynamicnet.tasks.style.model.StyleModel`
cannot be traced as it is: it pads with Python arithmetic on sizes and resolves alpha
into Python values; :class:`_Graph` does the same work with tensor operations.

Exporter: PyTorch's TorchScript-based exporter (``dynamo=False``), because the default
exporter needs onnxscript. Opset 17; InstanceNorm becomes ONNX ``InstanceNormalization``.
"""

from __future__ import annotations

import copy
import io
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import onnx
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..core import AlphaLike
from ..errors import DynamicNetError
from ..extras import require
from ..io.atomic import atomic_write
from ..tasks.style.model import StyleModel

DEFAULT_OPSET = 17
OPSETS = range(13, 21)  # 20 is the newest the TorchScript exporter writes; tests cover 13, 17 and 20
IMAGE_INPUT = "image"
OUTPUT = "stylized"
MIN_SIDE = 5  # smallest image side the graph takes (the Python model also takes smaller ones)
TOLERANCE = 1e-3  # largest onnxruntime vs PyTorch difference ``check`` accepts (outputs are ~[0, 1])


class ExportError(DynamicNetError, ValueError):
    """A model or destination that cannot be exported to (not a style model, unwritable path...)."""


@dataclass(frozen=True)
class ExportReport:
    """What was written: the file, its inputs in order, the opset, and the check's results.

    ``max_abs_diff`` is the largest onnxruntime vs PyTorch difference over ``checks``
    (one ``(description, difference)`` per test case), or None when not checked.
    """

    path: Path
    inputs: tuple[str, ...]
    output: str
    opset: int
    max_abs_diff: float | None
    checks: tuple[tuple[str, float], ...] = ()


def alpha_input_names(model: StyleModel, shared_alpha: bool = False) -> list[str]:
    """The graph's alpha inputs, in order: ``alpha_<block>`` per block (``alpha`` if shared);
    multi-set models ``alpha_<set>_<block>`` per set and block (``alpha_<set>`` if shared)."""
    prefixes = [f"alpha_{s}" for s in model.set_names] if model.variant == "multi" else ["alpha"]
    if shared_alpha:
        return prefixes
    return [f"{p}_{b}" for p in prefixes for b in model.block_names]


class _Graph(nn.Module):
    """``StyleModel.forward`` with tensor alphas as positional inputs, written to trace.

    Padding: for sides >= 5 the public model reflect-pads each side up to a multiple of 4.
    Here every side is reflect-padded by 3 and cropped to that multiple, which gives the
    same pixels with a constant ``Pad`` and a ``Slice`` whose ends follow the input size.
    """

    def __init__(self, model: StyleModel, shared_alpha: bool) -> None:
        super().__init__()
        self.model = model
        self.shared_alpha = shared_alpha

    def alpha(self, values: Iterator[Tensor]) -> AlphaLike:
        """Alpha in the Python API's form (dict by set, then block) from the inputs in order."""

        def one_set() -> AlphaLike:
            return next(values) if self.shared_alpha else {b: next(values) for b in self.model.block_names}

        if self.model.variant == "multi":
            return {s: one_set() for s in self.model.set_names}
        return one_set()

    def forward(self, image: Tensor, *alphas: Tensor) -> Tensor:
        size = image.shape[-2:]
        c = self.model.context
        x = self.model.norm(image)
        if c:
            x = F.pad(x, (c, c, c, c), mode="reflect")
        h, w = x.shape[-2:]
        x = F.pad(x, (0, 3, 0, 3), mode="reflect")[..., : h + (4 - h % 4) % 4, : w + (4 - w % 4) % 4]
        return self.model.finish(self.model.net(x, alpha=self.alpha(iter(alphas))), x, size)


# Warnings the export hides, each known to be harmless here (matched by message and origin):
_HARMLESS = (
    # the TorchScript exporter announcing it is the legacy one, and its internal use of its own
    # deprecated helper: it is the exporter that works without onnxscript
    ("You are using the legacy TorchScript-based ONNX export", DeprecationWarning, ""),
    ("The feature will be removed", DeprecationWarning, r"torch\.onnx\."),
    # InstanceNorm always normalises with the input's own statistics, in eval mode too
    (r"ONNX export mode is set to TrainingMode\.EVAL, but operator 'instance_norm'", UserWarning, ""),
    # the exporter computes each Pad's amounts with a reversing Slice that it cannot fold
    # (onnxruntime folds it when loading)
    ("Constant folding - Only steps=1 can be constant folded", UserWarning, r"torch\.onnx\."),
    # torch.nn's checks of channel counts and sizes: they hold for every input the graph accepts
    ("Converting a tensor to a Python boolean", torch.jit.TracerWarning, r"torch\.nn\."),
)


def _export_bytes(graph: _Graph, names: list[str], opset: int) -> bytes:
    """The ONNX file's bytes, hiding only the warnings in :data:`_HARMLESS`."""
    n_alpha = len(names) - 1
    c = graph.model.context
    example = (torch.rand(1, 3, 37 + c, 50 + c), *(torch.full((1,), 0.5) for _ in range(n_alpha)))
    axes = {IMAGE_INPUT: {0: "batch", 2: "height", 3: "width"}, OUTPUT: {0: "batch", 2: "height", 3: "width"}}
    axes.update({name: {0: f"{name}_size"} for name in names[1:]})  # each alpha is (1,) or (N,) on its own
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        for message, category, module in _HARMLESS:
            warnings.filterwarnings("ignore", message, category, module)
        torch.onnx.export(
            graph,
            example,
            buffer,
            dynamo=False,
            input_names=names,
            output_names=[OUTPUT],
            dynamic_axes=axes,
            opset_version=opset,
        )
    return buffer.getvalue()


def _with_metadata(data: bytes, model: StyleModel, names: list[str]) -> bytes:
    """Record the model's metadata and the alpha convention in the file, for tools that read it."""
    proto = onnx.load_from_string(data)
    info = dict(model.config, alpha_range=list(model.alpha_range), alpha_inputs=names[1:])
    onnx.helper.set_model_props(proto, {"dynamicnet": json.dumps(info, default=str)})
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def _check(ort: ModuleType, data: bytes, graph: _Graph, names: list[str]) -> list[tuple[str, float]]:
    """onnxruntime vs the public PyTorch model on random images: an odd size at alpha 0, and a
    batch of two at random per-block, per-sample alphas in the trained range."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # small images; no spinning worker threads beside torch's
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    model = graph.model
    gen = torch.Generator().manual_seed(0)
    low, high = model.alpha_range
    results = []
    c = model.context  # the graph mirrors this many pixels: the image must be larger
    for batch, h, w in ((1, 37 + c, 50 + c), (2, 64 + c, 61 + c)):
        image = torch.rand(batch, 3, h, w, generator=gen)
        if batch == 1:
            alphas, label = [torch.zeros(1) for _ in names[1:]], "alpha 0"
        else:
            alphas = [low + (high - low) * torch.rand(batch, generator=gen) for _ in names[1:]]
            label = "random alpha per block and image"
        with torch.no_grad():
            expected = model(image, alpha=graph.alpha(iter(alphas)))
        (got,) = session.run([OUTPUT], dict(zip(names, (t.numpy() for t in (image, *alphas)))))
        results.append((f"{batch}x3x{h}x{w}, {label}", float((torch.from_numpy(got) - expected).abs().max())))
    return results


def export_onnx(
    model: StyleModel | str | Path,
    path: str | Path,
    *,
    shared_alpha: bool = False,
    opset: int = DEFAULT_OPSET,
    check: bool = True,
) -> ExportReport:
    """Write a style model (or a model file's path, or a shipped model's name) as an ONNX
    graph with alpha as inputs.

    Inputs: ``image`` (N, 3, H, W) float32 RGB in [0, 1], any N and any H, W >= 5
    (:data:`MIN_SIDE`; for models with a ``render_context``, larger than it), then the
    float32 alpha inputs of :func:`alpha_input_names`, each of shape (1,) (one value for
    the whole batch) or (N,) (one value per image). Dual models take a signed alpha
    per block (``high`` gets max(a, 0), ``low`` max(-a, 0)), as in the Python API.
    Output: ``stylized``, same shape as ``image``, unclamped.

    ``check`` runs the file in onnxruntime against the PyTorch model first and raises
    :class:`ExportError` if they differ by more than :data:`TOLERANCE`; the file is only
    written (atomically) when everything succeeded.
    """
    if isinstance(model, (str, Path)):
        from .. import load

        model = load(model)
    if not isinstance(model, StyleModel):
        raise ExportError(f"ONNX export supports style models, not {type(model).__name__}")
    if type(opset) is not int or opset not in OPSETS:
        raise ExportError(f"opset {opset} is not supported; use {OPSETS.start} to {OPSETS.stop - 1}")
    # before the work: the check needs the [export] extra
    ort = (
        require("onnxruntime", "export", "checking an ONNX export (--no-check, or check=False, skips it)")
        if check
        else None
    )
    path = Path(path)
    model = copy.deepcopy(model).float().cpu().eval()  # the caller's model keeps its device and mode
    names = [IMAGE_INPUT, *alpha_input_names(model, shared_alpha)]
    if len(set(names)) != len(names):
        raise ExportError(f"block and set names give clashing input names: {', '.join(names[1:])}")
    graph = _Graph(model, shared_alpha)
    data = _with_metadata(_export_bytes(graph, names, opset), model, names)
    checks = _check(ort, data, graph, names) if ort is not None else []
    worst = max((d for _, d in checks), default=None)
    if worst is not None and not worst <= TOLERANCE:
        raise ExportError(f"the exported graph differs from the PyTorch model by {worst:.3g} (> {TOLERANCE})")
    try:
        if path.parent.exists() and not path.parent.is_dir():
            raise ExportError(f"{path}: {path.parent} is a file, not a folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
    except OSError as err:
        raise ExportError(f"{path}: cannot write the ONNX file ({err.strerror or err})") from err
    return ExportReport(path, tuple(names), OUTPUT, opset, worst, tuple(checks))
