"""Run a sequential network with instance normalisation on an image too big to hold its
activations, with the same result as a whole-image run.

The network's layers are grouped into segments at the points where an activation is small
enough to keep whole (typically after the downsampling layers, at 1/4 resolution with
many channels). Segments whose activations are all small run whole. The others run tile
by tile from the kept activation before them to the one after them; each tile carries a
margin (halo) as wide as the segment's receptive field, measured once by probing, so
tile borders never reach the tile's core.

Instance normalisation needs statistics of the whole image, and each norm's statistics
depend on those before it. A tiled segment therefore runs one pass per norm: every pass
normalises the norms already measured with their whole-image statistics and sums the
next norm's input over the tile cores (which together cover the image once), then stops.
A last pass produces the output. The result matches the whole-image run up to float
rounding; memory is bounded by the kept activations plus one tile.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import torch
from torch import Tensor, nn

from ..core import AlphaLike, map_tensors
from .norm import RenderInstanceNorm, outside_statistics

Box = tuple[int, int, int, int]  # top, bottom, left, right


@dataclass(frozen=True)
class Layer:
    """One child of the sequential network: output scale (vs the network input) and channels."""

    module: nn.Module
    scale: float
    channels: int


@dataclass(frozen=True)
class Segment:
    start: int  # index of the first layer
    stop: int  # one past the last layer
    tiled: bool


def probe_layers(
    layers: list[nn.Module], dtype: torch.dtype, device: torch.device, side: int = 64
) -> list[Layer]:
    """Output scale and channels of each layer, from a run on a small random image."""
    x = torch.rand(1, 3, side, side, dtype=dtype, device=device)
    out = []
    for module in layers:
        x = module(x)
        out.append(Layer(module, x.shape[-1] / side, x.shape[1]))
    return out


def plan_segments(
    layers: list[Layer], height: int, width: int, batch: int, itemsize: int, keep_bytes: int
) -> list[Segment]:
    """Cut after every layer whose output (for this image) fits in ``keep_bytes``.

    A segment runs whole when each of its outputs is at most half that (a layer holds a
    few temporaries of its output's size while it runs), otherwise in tiles.
    """
    segments, start, largest = [], 0, 0
    for i, layer in enumerate(layers):
        size = (
            batch
            * layer.channels
            * math.ceil(height * layer.scale)
            * math.ceil(width * layer.scale)
            * itemsize
        )
        largest = max(largest, size)
        if size <= keep_bytes or i == len(layers) - 1:
            segments.append(Segment(start, i + 1, tiled=largest > keep_bytes // 2))
            start, largest = i + 1, 0
    return segments


def tile_windows(height: int, width: int, tile: int, halo: int) -> Iterator[tuple[Box, Box]]:
    """(core, window) boxes: cores tile the image, windows add ``halo`` on each side."""
    for top in range(0, height, tile):
        bottom = min(top + tile, height)
        for left in range(0, width, tile):
            right = min(left + tile, width)
            window = (
                max(0, top - halo),
                min(height, bottom + halo),
                max(0, left - halo),
                min(width, right + halo),
            )
            yield (top, bottom, left, right), window


class _Stop(Exception):
    """Raised by the meter once the norm being measured has seen its tile."""


class _Meter:
    """Feeds norms whole-image statistics and measures the first norm that has none yet."""

    def __init__(self, stats: dict[RenderInstanceNorm, tuple[Tensor, Tensor]]) -> None:
        self.stats = stats
        self.target: RenderInstanceNorm | None = None
        self.sums: list | None = None
        self.core: Box = (0, 0, 0, 0)
        self.tile_size = (1, 1)

    def __call__(self, norm: RenderInstanceNorm, x: Tensor) -> None:
        if norm in self.stats:
            return
        if self.target is None:
            self.target = norm
        if norm is not self.target:  # a later norm in the same pass: only possible after a retry
            raise RuntimeError("instance norms ran in a different order on different tiles")
        sy, sx = x.shape[-2] / self.tile_size[0], x.shape[-1] / self.tile_size[1]
        top, bottom, left, right = self.core
        core = x[..., round(top * sy) : round(bottom * sy), round(left * sx) : round(right * sx)].double()
        part = [core.sum(dim=(2, 3)), core.square().sum(dim=(2, 3)), core.shape[-2] * core.shape[-1]]
        self.sums = part if self.sums is None else [a + p for a, p in zip(self.sums, part)]
        raise _Stop

    def finish_norm(self) -> bool:
        """Store the measured norm's statistics; False when every norm had them already."""
        if self.target is None:
            return False
        s, sq, count = self.sums
        mean = s / count
        self.stats[self.target] = (mean.float(), (sq / count - mean.square()).clamp(min=0).float())
        self.target, self.sums = None, None
        return True


class _UnitStatistics:
    """Mean 0, variance 1 for every norm: normalisation that depends on nothing."""

    def get(self, norm: RenderInstanceNorm) -> tuple[Tensor, Tensor]:
        device = norm.weight.device if norm.weight is not None else None
        return torch.zeros(1, norm.num_features, device=device), torch.ones(
            1, norm.num_features, device=device
        )


PROBES = 8  # random inputs of the receptive-field probe


def receptive_radius(run: Callable[[Tensor], Tensor], channels: int, multiple: int, dtype, device) -> int:
    """How far (in input pixels) an output pixel of ``run`` can see, normalisation held fixed.

    Found from the input gradient of one central output pixel on random inputs; the probe
    grows until the gradient stays clear of its border. Several inputs at once: on one, the
    pixel's gradient can be zero (ReLUs that happen to be off there), which says nothing.
    """
    side = 16 * multiple
    while True:
        # fixed statistics: no whole-image dependence, so each input's gradient is its own
        with outside_statistics(_UnitStatistics()), torch.inference_mode(False), torch.enable_grad():
            x = torch.randn(PROBES, channels, side, side, dtype=dtype, device=device, requires_grad=True)
            y = run(x)
            cy, cx = y.shape[-2] // 2, y.shape[-1] // 2
            y[..., cy, cx].float().sum().backward()
        seen = x.grad.abs().sum(dim=(0, 1)) > 0
        if not seen.any():
            raise RuntimeError(
                f"cannot measure the network's receptive field: the centre pixel's output did not "
                f"depend on any of {PROBES} random inputs"
            )
        rows, cols = seen.any(dim=1).nonzero(), seen.any(dim=0).nonzero()
        centre_y, centre_x = cy * side / y.shape[-2], cx * side / y.shape[-1]
        reach = max(
            centre_y - rows.min().item(),
            rows.max().item() - centre_y,
            centre_x - cols.min().item(),
            cols.max().item() - centre_x,
        )
        if rows.min() > 0 and cols.min() > 0 and rows.max() < side - 1 and cols.max() < side - 1:
            return int(math.ceil(reach))
        if side >= 2048:
            raise RuntimeError("receptive field too large to render in tiles")
        side *= 2


def _crop(m: Tensor, box: Box, factor: float) -> Tensor:
    """The part of a spatial alpha map under ``box`` (given at 1/factor of the map's resolution)."""
    if m.dim() != 4:
        return m
    top, bottom, left, right = (round(v * factor) for v in box)
    return m[..., top:bottom, left:right]


def run_tiled(
    run: Callable[[Tensor, AlphaLike], Tensor],
    h: Tensor,
    alpha: AlphaLike,
    *,
    tile: int,
    halo: int,
    out_scale: float,
    alpha_scale: float,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> Tensor:
    """``run(h, alpha)`` tile by tile, with whole-image statistics for every norm it runs.

    ``tile`` and ``halo`` are in pixels of ``h`` and multiples of the segment's stride;
    ``out_scale`` is output size over input size; spatial alpha maps are at
    ``1 / alpha_scale`` times the resolution of ``h`` and are cropped to match each tile.
    """
    height, width = h.shape[-2:]
    meter = _Meter({})
    out = None
    while True:
        with outside_statistics(meter.stats, meter):
            for core, window in tile_windows(height, width, tile, halo):
                wt, wb, wl, wr = window
                meter.core = (core[0] - wt, core[1] - wt, core[2] - wl, core[3] - wl)
                meter.tile_size = (wb - wt, wr - wl)
                tile_alpha = map_tensors(alpha, partial(_crop, box=window, factor=1 / alpha_scale))
                try:
                    y = run(h[..., wt:wb, wl:wr], tile_alpha)
                except _Stop:
                    continue
                if out is None:
                    size = (round(height * out_scale), round(width * out_scale))
                    out = torch.empty(
                        (*y.shape[:2], *size), dtype=y.dtype, device=y.device, memory_format=memory_format
                    )
                top, bottom, left, right = (round(v * out_scale) for v in core)
                dy, dx = round(wt * out_scale), round(wl * out_scale)
                out[..., top:bottom, left:right] = y[..., top - dy : bottom - dy, left - dx : right - dx]
        if not meter.finish_norm():
            return out
        out = None  # a measuring pass produced no output
