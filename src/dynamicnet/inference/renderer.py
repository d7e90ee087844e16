"""Fast inference for image-to-image models: the path the command line and the demo render
style models through. It knows no task: any model whose ``net`` is a DynamicNet and which
has ``prepare(x, alpha)`` (the network's input, alpha to match, the size to crop back to)
and ``finish(y, exact, size)`` (the network's output back to an image) renders through it;
the style model is one today.

Three things make it fast. The network runs in bf16 with channels-last tensors where the
hardware has fast bf16 (AMX or AVX512-BF16 CPUs, CUDA GPUs). The layers before the first
tuning block do not depend on alpha, so their output is kept per image and an alpha
change recomputes only the rest. Sliders can preview from a few keyframe renders
(:class:`Keyframes`). Images too big to render whole are rendered layer group by layer
group, in tiles where needed, with whole-image normalisation statistics
(:mod:`dynamicnet.inference.tiling`).
"""

from __future__ import annotations

import copy
import hashlib
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..core import AlphaError, AlphaLike, DynamicNet, map_tensors
from ..data.images import check_rgb_batch
from ..devices import resolve_device
from .norm import swap_instance_norms
from .precision import resolve_precision
from .tiling import Layer, plan_segments, probe_layers, receptive_radius, run_tiled

DEFAULT_MAX_PIXELS = 2048 * 2048  # above this (per batch), render layer group by layer group
DEFAULT_KEEP_BYTES = 600 * 2**20  # largest activation kept whole when rendering piecewise
DEFAULT_CACHE_BYTES = 512 * 2**20


@dataclass(frozen=True)
class Split:
    """The base cut where alpha starts to matter: ``prefix`` runs without any block; if
    ``block`` is set, it is the block on the prefix's last layer, applied to the cached
    output; ``suffix`` runs with the blocks hooked as usual."""

    prefix: nn.Module
    block: str | None
    suffix: nn.Module


def split_at_first_block(net: DynamicNet) -> Split | None:
    """Where a sequential base can be cut so that the first part does not depend on alpha.

    None when the base is not an ``nn.Sequential`` (nothing can be reused across alpha).
    """
    base = net.base
    if not isinstance(base, nn.Sequential):
        return None
    children = [name for name, _ in base.named_children()]
    first = min(children.index(path.split(".")[0]) for path in net.points.values())
    layers = list(base)
    on_child = [name for name, path in net.points.items() if path == children[first]]
    nested = any(path.split(".")[0] == children[first] and "." in path for path in net.points.values())
    if on_child and not nested:  # the block sits on the child's output: keep the child in the prefix
        return Split(nn.Sequential(*layers[: first + 1]), on_child[0], nn.Sequential(*layers[first + 1 :]))
    return Split(nn.Sequential(*layers[:first]), None, nn.Sequential(*layers[first:]))


def _fingerprint(x: Tensor) -> tuple:
    """The network input's identity for the prefix cache. It is taken of the input as the
    network sees it (bf16 when rendering in bf16: half the bytes, and inputs that round to
    the same values share a prefix anyway); SHA-256 runs on the CPU's SHA instructions,
    several times faster than BLAKE2 here."""
    data = x.detach().cpu().contiguous()
    if data.dtype == torch.bfloat16:
        data = data.view(torch.int16)
    digest = hashlib.sha256(data.numpy())  # the array's buffer: no copy
    return (tuple(x.shape), str(x.dtype), str(x.device), digest.hexdigest())


class Renderer:
    """``renderer(x, alpha=...)``: same contract as ``model(x, alpha=...)``, faster.

    ``x`` is (N, 3, H, W) or (3, H, W) floating-point RGB in [0, 1]; the output has the
    same shape, float32, contiguous, unclamped. It is for inference: no gradient flows.
    ``precision`` is "auto" (bf16 where fast, else fp32), "bf16" or "fp32" (the model's
    exact arithmetic). The renderer works on its own copy of the model, so later changes
    to ``model`` are not seen. Batches above ``max_pixels`` pixels render piecewise
    (:mod:`dynamicnet.inference.tiling`): activations up to ``keep_bytes`` are kept whole,
    the layers between them run in tiles of about ``tile`` image pixels. One renderer can
    serve several threads; piecewise renders take turns to bound memory.
    """

    def __init__(
        self,
        model: nn.Module,
        precision: str = "auto",
        device: str | torch.device | None = None,
        *,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        keep_bytes: int = DEFAULT_KEEP_BYTES,
        tile: int = 512,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        if not (hasattr(model, "prepare") and hasattr(model, "finish") and isinstance(model.net, DynamicNet)):
            raise TypeError(
                "Renderer needs an image-to-image model with prepare/finish (a style model); "
                f"a {getattr(model, 'task', type(model).__name__)!r} model has none"
            )
        for name, value, least in (("max_pixels", max_pixels, 1), ("keep_bytes", keep_bytes, 1),
                                   ("tile", tile, 8), ("cache_bytes", cache_bytes, 0)):  # fmt: skip
            if not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if device is None:
            device = next(model.parameters()).device
        self.device = resolve_device(device) if isinstance(device, str) else torch.device(device)
        self.precision = resolve_precision(precision, self.device)
        self.model = copy.deepcopy(model).to(self.device).eval().requires_grad_(False)
        self.net: DynamicNet = self.model.net
        norms = swap_instance_norms(self.net)
        if self.precision == "bf16":
            if hasattr(self.model, "fold_normalisation"):
                self.model.fold_normalisation()  # two full-size passes fewer per render
            self.net.to(dtype=torch.bfloat16, memory_format=torch.channels_last)
            for norm in norms:
                norm.fast = True
        self._dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        self._format = torch.channels_last if self.precision == "bf16" else torch.contiguous_format
        self._split = split_at_first_block(self.net)
        self.max_pixels, self.keep_bytes, self.tile, self.cache_bytes = (
            max_pixels,
            keep_bytes,
            tile,
            cache_bytes,
        )
        self._layers: list[Layer] | None = None
        self._radius: dict[tuple[int, int], int] = {}
        self._cache: OrderedDict[tuple, Tensor] = OrderedDict()
        self._lock = threading.Lock()  # guards the cache
        self._piecewise_turn = threading.Lock()  # one piecewise render at a time
        # how the most recent render (of any thread) ran, e.g. "down1-down2 in tiles, down3-res5 whole"
        self.last_plan = "whole"

    # --- public ------------------------------------------------------------------------
    def __call__(self, x: Tensor, alpha: AlphaLike = 0.0) -> Tensor:
        return self.render(x, alpha)

    def render(self, x: Tensor, alpha: AlphaLike = 0.0) -> Tensor:
        single = isinstance(x, Tensor) and x.dim() == 3
        x = self._check(x.unsqueeze(0) if single else x)
        self.net.check_alpha(alpha)
        with torch.inference_mode():
            exact, alpha, size = self.model.prepare(x, map_tensors(alpha, lambda a: a.to(self.device)))
            inside = exact.to(self._dtype, memory_format=self._format)
            if x.shape[0] * inside.shape[-2] * inside.shape[-1] > self.max_pixels:
                with self._piecewise_turn:
                    y, self.last_plan = self._piecewise(inside, alpha)
            else:
                y, self.last_plan = self._whole(inside, alpha), "whole"
            # a residual network adds its fp32 input: bf16 would band smooth gradients
            y = self.model.finish(y.float(), exact, size).contiguous()
        return y[0] if single else y

    def sweep(self, x: Tensor, alphas: Sequence[AlphaLike]) -> list[Tensor]:
        """One render per alpha; below ``max_pixels`` the layers before the first block run
        once for all (when their output fits in ``cache_bytes``)."""
        self.net.check_alpha(*alphas)
        return [self.render(x, a) for a in alphas]

    def keyframes(
        self, x: Tensor, positions: Sequence[float], alpha_at: Callable[[float], AlphaLike] | None = None
    ) -> Keyframes:
        """Exact renders at slider ``positions``, for instant previews in between.

        ``alpha_at`` maps a slider position to an alpha (default: the position itself, for
        every block); e.g. ``lambda t: {"starry": 1 - t, "wave": t}`` for two block sets.
        """
        points = sorted({float(p) for p in positions})
        if len(points) < 2:
            raise AlphaError("keyframes need at least two distinct positions")
        to_alpha = alpha_at or (lambda t: t)
        return Keyframes(points, self.sweep(x, [to_alpha(p) for p in points]))

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    # --- internals ---------------------------------------------------------------------
    def _check(self, x: Tensor) -> Tensor:
        check_rgb_batch(x, "(N, 3, H, W) or (3, H, W)")
        return x.to(self.device, torch.float32)

    def _whole(self, inside: Tensor, alpha: AlphaLike) -> Tensor:
        if self._split is None:
            return self.net(inside, alpha=alpha)
        key = _fingerprint(inside)
        with self._lock:
            z = self._cache.get(key)
            if z is not None:
                self._cache.move_to_end(key)
        if z is None:
            z = self._split.prefix(inside)
            with self._lock:
                self._remember(key, z)
        with self.net.tuned(alpha):
            if self._split.block is not None:
                z = self.net.tune(self._split.block, z)
            return self._split.suffix(z)

    def _piecewise(self, h: Tensor, alpha: AlphaLike) -> tuple[Tensor, str]:
        """Layer group by layer group, tiling the groups whose activations are too big to keep."""
        if self._split is None:
            raise ValueError("this model's network is not sequential: it cannot render piecewise")
        layers = self._probe()
        itemsize = torch.empty((), dtype=self._dtype).element_size()
        segments = plan_segments(layers, h.shape[-2], h.shape[-1], h.shape[0], itemsize, self.keep_bytes)
        for seg in segments:
            group = nn.Sequential(*[layer.module for layer in layers[seg.start : seg.stop]])
            if seg.tiled:
                h = self._in_tiles(group, layers, seg.start, seg.stop, h, alpha)
            else:
                with self.net.tuned(alpha):
                    h = group(h)
        return h, self._describe(segments)

    def _describe(self, segments) -> str:
        """E.g. "down1-down2 in tiles, down3-res5 whole, up1 in tiles, up2-out in tiles"."""
        names = [name for name, _ in self.net.base.named_children()]
        runs: list[list] = []
        for seg in segments:
            if runs and not seg.tiled and not runs[-1][2]:
                runs[-1][1] = seg.stop  # merge consecutive whole groups
            else:
                runs.append([seg.start, seg.stop, seg.tiled])
        return ", ".join(
            "-".join(dict.fromkeys((names[a], names[b - 1]))) + (" in tiles" if tiled else " whole")
            for a, b, tiled in runs
        )

    def _in_tiles(
        self, group: nn.Module, layers: list[Layer], start: int, stop: int, h: Tensor, alpha: AlphaLike
    ) -> Tensor:
        """Layers ``start:stop`` on tiles of ``h``, with margins as wide as their receptive field."""
        scale_in = layers[start - 1].scale if start else 1.0
        stride = max(1, round(scale_in / min(layer.scale for layer in layers[start:stop])))

        def run(t: Tensor, a: AlphaLike) -> Tensor:
            with self.net.tuned(a):
                return group(t)

        if (start, stop) not in self._radius:
            unit = dict.fromkeys(self.net.set_names, 1.0) if self.net.variant == "multi" else 1.0
            channels = layers[start - 1].channels if start else 3
            self._radius[start, stop] = receptive_radius(
                lambda t: run(t, unit), channels, stride, self._dtype, self.device
            )
        halo = -(-(self._radius[start, stop] + 1) // stride) * stride
        tile = max(2 * stride, round(self.tile * scale_in) // stride * stride)
        out_scale = layers[stop - 1].scale / scale_in
        return run_tiled(
            run, h, alpha, tile=tile, halo=halo, out_scale=out_scale, alpha_scale=scale_in,
            memory_format=self._format,
        )  # fmt: skip

    def _probe(self) -> list[Layer]:
        if self._layers is None:
            self._layers = probe_layers(list(self.net.base), self._dtype, self.device)
        return self._layers

    def _remember(self, key: tuple, z: Tensor) -> None:
        size = z.numel() * z.element_size()
        if size > self.cache_bytes:
            return
        self._cache[key] = z
        while sum(t.numel() * t.element_size() for t in self._cache.values()) > self.cache_bytes:
            self._cache.popitem(last=False)


class Keyframes:
    """Exact renders at a few slider positions; :meth:`preview` blends the two neighbours."""

    def __init__(self, positions: list[float], images: list[Tensor]) -> None:
        self.positions = positions
        self.images = images

    def preview(self, position: float) -> Tensor:
        """Linear blend of the keyframes either side of ``position`` (exact at keyframes)."""
        lo, hi = self.positions[0], self.positions[-1]
        if not lo <= position <= hi:
            raise AlphaError(f"preview position {position} is outside the keyframes' range [{lo}, {hi}]")
        i = min(bisect_right(self.positions, position), len(self.positions) - 1)
        a, b = self.positions[i - 1], self.positions[i]
        t = (position - a) / (b - a)
        return torch.lerp(self.images[i - 1], self.images[i], t)
