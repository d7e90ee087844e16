"""Stylize a video: alpha follows keyframes over time; flicker is damped and measured.

Fast style networks stylize each frame on its own, so sensor noise and compression noise
that the eye ignores in the input become visible flicker in the output. Two remedies,
usable together:

- ``stats``: every InstanceNorm normalises with an exponential moving average of its
  statistics over the frames instead of the current frame's alone, so the global tone
  of the output stops pumping from frame to frame.
- ``blend``: where the input barely changed since the last frame, the new stylized pixel
  is blended with the previous output pixel (weight ``strength``); where it changed (motion,
  cuts) the new one is taken as it is. Static areas settle, moving ones stay sharp. A
  camera pan is estimated and undone first, so the texture travels with the scene.

A cut (a large change of the whole input) restarts both. Flicker is measured as the mean
absolute change between consecutive frames (0..255) along the camera's pan, of the output
and of the input.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ..core import AlphaError, AlphaLike
from ..io.atomic import atomic_write
from ..io.video import VideoError, VideoReader, VideoWriter, av, container_for, frame_to_array
from .color import preserve_color
from .norm import RenderInstanceNorm, outside_statistics
from .renderer import Renderer

STABILIZE = ("none", "stats", "blend", "both")
CUT = 0.12  # mean absolute input change (0..1) above which a frame starts a new shot


# --- alpha over time -------------------------------------------------------------------------
def _lerp(a: AlphaLike, b: AlphaLike, w: float) -> AlphaLike:
    if isinstance(a, Mapping):  # a name one keyframe leaves out is 0 there, as everywhere
        return {k: _lerp(a.get(k, 0.0), b.get(k, 0.0), w) for k in {**a, **b}}
    if isinstance(a, Sequence):
        return [_lerp(x, y, w) for x, y in zip(a, b)]
    return float(a) + (float(b) - float(a)) * w


def _form(a: AlphaLike) -> object:
    """What must agree for two alphas to be interpolated: the form and the count of values."""
    if isinstance(a, Mapping):
        return "names"
    if isinstance(a, Sequence):
        return ("values", len(a))
    return "number"


@dataclass(frozen=True)
class AlphaSchedule:
    """Alpha at any time: linear between keyframes ``(seconds, alpha)``, held before the first
    and after the last."""

    keys: tuple[tuple[float, AlphaLike], ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise AlphaError("an alpha schedule needs at least one keyframe")
        times = [t for t, _ in self.keys]
        if any(not math.isfinite(t) or t < 0 for t in times):
            raise AlphaError("keyframe times must be finite and not negative")
        if sorted(times) != times or len(set(times)) != len(times):
            raise AlphaError("keyframe times must be distinct and in increasing order")
        forms = {_form(a) for _, a in self.keys}
        if len(forms) > 1:
            raise AlphaError(
                "all keyframes must give alpha in the same form: one number, lists of the same "
                "length, or name=value pairs"
            )

    def __call__(self, seconds: float) -> AlphaLike:
        keys = self.keys
        if seconds <= keys[0][0]:
            return keys[0][1]
        for (t0, a0), (t1, a1) in zip(keys, keys[1:]):
            if seconds <= t1:
                return _lerp(a0, a1, (seconds - t0) / (t1 - t0))
        return keys[-1][1]


# --- stabilisers ----------------------------------------------------------------------------
class SmoothedStatistics:
    """InstanceNorm statistics as a moving average over frames (see the module docstring)."""

    def __init__(self, momentum: float = 0.9) -> None:
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = momentum
        self.stats: dict[RenderInstanceNorm, tuple[Tensor, Tensor]] = {}

    def meter(self, norm: RenderInstanceNorm, x: Tensor) -> None:
        # Called by each norm before it looks its statistics up: replace this frame's with the average.
        var, mean = torch.var_mean(x.float(), dim=(2, 3), correction=0)
        previous = self.stats.get(norm)
        if previous is not None and previous[0].shape == mean.shape:
            m = self.momentum
            mean, var = m * previous[0] + (1 - m) * mean, m * previous[1] + (1 - m) * var
        self.stats[norm] = (mean, var)

    def context(self):
        return outside_statistics(self.stats, self.meter)

    def reset(self) -> None:
        self.stats.clear()


@lru_cache(maxsize=4)
def _window(h: int, w: int) -> Tensor:
    """A 2-D Hann window: the frame's edges must not look like a shift to the FFT."""
    return torch.outer(torch.hann_window(h, periodic=False), torch.hann_window(w, periodic=False))


def estimate_shift(now: Tensor, before: Tensor) -> tuple[int, int]:
    """The whole-pixel translation (dy, dx) that moves ``before`` onto ``now``, by phase
    correlation of their brightness: a panning camera's motion between two frames.

    A weak correlation peak means no pan, (0, 0): a pan peaks near 0.9, while flat or
    unrelated frames stay under about 7.5 / sqrt(pixels) (0.02 at 480x320).
    """
    a, b = now.mean(dim=0), before.mean(dim=0)
    h, w = a.shape
    window = _window(h, w)
    cross = torch.fft.rfft2((a - a.mean()) * window) * torch.fft.rfft2((b - b.mean()) * window).conj()
    surface = torch.fft.irfft2(cross / (cross.abs() + 1e-8), s=a.shape)
    peak = int(surface.argmax())
    if float(surface.flatten()[peak]) < max(0.1, 10 / math.sqrt(h * w)):
        return 0, 0
    dy, dx = divmod(peak, w)
    return (dy - h if dy > h // 2 else dy), (dx - w if dx > w // 2 else dx)


def aligned(now: Tensor, before: Tensor, shift: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """The parts of two frames that show the same scene once ``before`` is moved by ``shift``."""
    dy, dx = shift
    h, w = now.shape[-2:]
    rows, cols = slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0))
    return now[..., rows, cols], torch.roll(before, (dy, dx), dims=(-2, -1))[..., rows, cols]


class MotionBlend:
    """Blend each output with the previous one where the input did not change.

    The previous frame is first shifted by the camera's estimated pan
    (:func:`estimate_shift`), so that on a panning shot the brush texture moves with the
    scene instead of staying put. Pixels shifted in from the border never match and are
    taken new.
    """

    def __init__(self, strength: float = 0.8, tolerance: float = 0.04, compensate: bool = True) -> None:
        if not 0 <= strength < 1:
            raise ValueError(f"strength must be in [0, 1), got {strength}")
        self.strength, self.tolerance, self.compensate = strength, tolerance, compensate
        self.previous: tuple[Tensor, Tensor] | None = None  # (input, output)

    def __call__(self, frame: Tensor, stylized: Tensor, shift: tuple[int, int] | None = None) -> Tensor:
        """``shift``: the pan since the previous frame, when the caller has estimated it."""
        if self.previous is None or self.previous[0].shape != frame.shape:
            out = stylized
        else:
            before, output = self.previous
            if self.compensate:
                dy, dx = estimate_shift(frame, before) if shift is None else shift
                if dy or dx:
                    before, output = (torch.roll(x, (dy, dx), dims=(1, 2)) for x in (before, output))
            change = (frame - before).abs().amax(dim=0, keepdim=True)[None]
            change = F.avg_pool2d(change, 5, stride=1, padding=2, count_include_pad=False)[0]
            weight = self.strength * torch.exp(-((change / self.tolerance) ** 2))
            out = weight * output + (1 - weight) * stylized
        self.previous = (frame, out)
        return out

    def reset(self) -> None:
        self.previous = None


@dataclass
class FlickerMeter:
    """Mean absolute change between consecutive frames (0..255), along the camera's pan:
    the previous frame is moved by the pan first, so a moving camera is not counted as
    flicker, and texture that stays put while the scene pans is."""

    total: float = 0.0
    pairs: int = 0
    _last: Tensor | None = field(default=None, repr=False)

    def add(self, frame: Tensor, shift: tuple[int, int] = (0, 0)) -> None:
        frame = (frame.clamp(0, 1) * 255).round()
        if self._last is not None and self._last.shape == frame.shape:
            now, before = aligned(frame, self._last, shift)
            self.total += float((now - before).abs().mean())
            self.pairs += 1
        self._last = frame

    @property
    def mean(self) -> float:
        return self.total / self.pairs if self.pairs else float("nan")


@dataclass
class VideoReport:
    frames: int
    seconds: float
    width: int
    height: int
    fps: float
    audio: str
    cuts: int
    input_change: float
    output_change: float
    warning: str | None = None  # something the caller should tell the user

    @property
    def flicker_ratio(self) -> float:
        """How much more the output changes per frame than the input (1 = as much)."""
        return self.output_change / self.input_change if self.input_change > 0 else float("nan")


def output_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Even sides (the encoders' 4:2:0 sampling), shrunk to ``max_side`` when asked."""
    scale = min(1.0, max_side / max(width, height)) if max_side else 1.0
    w, h = max(2, round(width * scale)), max(2, round(height * scale))
    return w - w % 2, h - h % 2


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; returns those it created, outermost first."""
    missing = [f for f in (folder, *folder.parents) if not f.exists()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise VideoError(f"{folder}: cannot create the output folder ({err.strerror or err})") from None
    return missing


def stylize_video(
    src: str | Path,
    dst: str | Path,
    renderer: Renderer,
    alpha: AlphaSchedule | Callable[[float], AlphaLike],
    *,
    stabilize: str = "blend",
    momentum: float = 0.9,
    strength: float = 0.8,
    preserve: str | None = None,
    max_side: int | None = None,
    quality: int = 18,
    audio: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
) -> VideoReport:
    """Stylize ``src`` into ``dst`` (written whole or not at all); the container follows
    ``dst``'s extension (.mp4, .mov, .mkv, .webm). ``alpha`` maps seconds since the first
    frame to an alpha."""
    if stabilize not in STABILIZE:
        raise ValueError(f"unknown stabilisation {stabilize!r} (use {', '.join(STABILIZE)})")
    dst = Path(dst)
    container_for(dst)  # a bad extension fails before any work
    if max_side is not None and max_side < 2:
        raise ValueError("max_side must be at least 2")
    stats = SmoothedStatistics(momentum) if stabilize in ("stats", "both") else None
    blend = MotionBlend(strength) if stabilize in ("blend", "both") else None
    start = time.perf_counter()
    with VideoReader(src) as reader:
        info = reader.info
        width, height = output_size(info.width, info.height, max_side)
        fps = float(info.fps)
        seen_in, seen_out = FlickerMeter(), FlickerMeter()
        state: dict = {"frames": 0, "cuts": 0, "first": None, "last": 0.0}
        modes: list[str] = []

        def write(tmp: str) -> None:
            writer = VideoWriter(tmp, dst, reader, width, height, quality=quality, audio=audio)
            modes.append(writer.audio_mode)
            previous: Tensor | None = None
            for kind, item in reader.packets():
                if kind == "audio":
                    writer.write_audio(item)
                    continue
                seconds, pts, frame = item
                if seconds is None:
                    seconds = state["frames"] / fps
                if state["first"] is None:
                    state["first"] = seconds  # keyframe times count from the first frame
                state["last"] = seconds
                rgb = torch.from_numpy(frame_to_array(frame, width, height)).permute(2, 0, 1).float() / 255
                shift = (0, 0)
                if previous is not None:
                    shift = estimate_shift(rgb, previous)
                    now, before = aligned(rgb, previous, shift)
                    if float((now - before).abs().mean()) > CUT:
                        state["cuts"] += 1
                        for part in (stats, blend):
                            if part is not None:
                                part.reset()
                previous = rgb
                with stats.context() if stats is not None else nullcontext():
                    y = renderer(rgb, alpha=alpha(seconds - state["first"]))
                y = y.clamp(0, 1).cpu()  # frames are encoded on the CPU
                if preserve:
                    y = preserve_color(y, rgb, preserve)
                if blend is not None:
                    y = blend(rgb, y, shift)
                seen_in.add(rgb, shift)
                seen_out.add(y, shift)
                writer.write_frame((y * 255).round().byte().permute(1, 2, 0).numpy(), pts)
                state["frames"] += 1
                if progress is not None:
                    progress(state["frames"], info.frames)
            if state["frames"] == 0:
                raise VideoError(f"{src}: no frames could be decoded")
            if info.frames and state["frames"] < 0.95 * info.frames:
                raise VideoError(
                    f"{src}: only {state['frames']} of its {info.frames} frames could be decoded "
                    "(a damaged or cut-off file)"
                )
            writer.close()

        created = _make_folders(dst.parent)
        # Frames are rendered whole: the tiled path measures its own statistics per frame.
        saved, renderer.max_pixels = renderer.max_pixels, max(renderer.max_pixels, width * height)
        try:
            atomic_write(dst, write)
        except BaseException as err:
            for folder in reversed(created):  # leave nothing behind, folders included
                try:
                    folder.rmdir()
                except OSError:
                    break
            if isinstance(err, av.FFmpegError):  # e.g. damaged audio packets
                reason = err.strerror or type(err).__name__
                raise VideoError(f"{src}: could not be converted ({reason})") from None
            if isinstance(err, OSError):  # an unwritable folder, a full disk
                raise VideoError(f"{dst}: cannot write the video ({err.strerror or err})") from None
            raise
        finally:
            renderer.max_pixels = saved
    warning = None
    span = state["last"] - (state["first"] or 0.0) + 1 / fps
    if not info.frames and info.duration and span < 0.9 * info.duration:
        warning = (
            f"the file says it lasts {info.duration:.2f} s but its frames cover {span:.2f} s: "
            "it may be damaged or cut off (or its audio runs longer)"
        )
    return VideoReport(
        state["frames"], round(time.perf_counter() - start, 2), width, height, fps, modes[0],
        state["cuts"], seen_in.mean, seen_out.mean, warning,
    )  # fmt: skip
