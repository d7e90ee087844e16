"""Read and write video with PyAV (FFmpeg's libraries, bundled in its wheels).

Reading gives RGB frames with their presentation times; writing encodes frames with the
input's timestamps and carries the audio over packet by packet, re-encoding it only where
the output container cannot hold its codec. Everything FFmpeg can report as an error
becomes a :class:`VideoError` with one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import DynamicNetError
from ..extras import require

av = require("av", "video", "reading and writing video")

# output extension -> (FFmpeg muxer, video encoder, audio encoder, audio codecs it can hold as they are)
_MP4_AUDIO = {"aac", "mp3", "alac", "ac3", "eac3"}
CONTAINERS = {
    ".mp4": ("mp4", "libx264", "aac", _MP4_AUDIO),
    ".m4v": ("mp4", "libx264", "aac", _MP4_AUDIO),
    ".mov": ("mov", "libx264", "aac", _MP4_AUDIO | {"pcm_s16le", "pcm_s16be", "pcm_s24le"}),
    ".mkv": ("matroska", "libx264", "aac", None),  # None: any codec
    ".webm": ("webm", "libvpx-vp9", "libopus", {"opus", "vorbis"}),
}


class VideoError(DynamicNetError, ValueError):
    """A video that cannot be read or written; the message names the file."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: Fraction
    duration: float | None  # seconds, when the container says
    frames: int | None  # when the container says
    audio: str | None  # the first audio stream's codec


def _fail(path: Path, err: Exception) -> VideoError:
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return VideoError(f"{path}: not a readable video ({text})")


class VideoReader:
    """The first video stream of a file, frame by frame; audio packets come along in file order."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise VideoError(f"{self.path}: is a folder, not a video")
        if not self.path.is_file():
            raise VideoError(f"{self.path}: no such file")
        try:
            self.container = av.open(str(self.path), mode="r")
        except (av.FFmpegError, OSError, UnicodeDecodeError) as err:
            raise _fail(self.path, err) from None
        if not self.container.streams.video:
            self.container.close()
            raise VideoError(f"{self.path}: has no video stream")
        self.video = self.container.streams.video[0]
        self.video.thread_type = "AUTO"
        self.audio = self.container.streams.audio[0] if self.container.streams.audio else None
        ctx = self.video.codec_context
        if not ctx.width or not ctx.height:
            self.close()
            raise VideoError(f"{self.path}: the video stream has no frame size")

    @property
    def info(self) -> VideoInfo:
        v = self.video
        fps = v.average_rate or v.guessed_rate or Fraction(25)
        duration = None
        if v.duration is not None and v.time_base:
            duration = float(v.duration * v.time_base)
        elif self.container.duration:
            duration = self.container.duration / av.time_base
        return VideoInfo(
            v.codec_context.width, v.codec_context.height, Fraction(fps), duration,
            v.frames or None, self.audio.codec_context.name if self.audio else None,
        )  # fmt: skip

    def packets(self) -> Iterator[tuple[str, object]]:
        """("frame", (seconds, pts, av.VideoFrame)) and ("audio", av.Packet) in file order."""
        streams = [self.video] + ([self.audio] if self.audio else [])
        try:
            for packet in self.container.demux(*streams):
                if packet.stream is self.video:
                    for frame in packet.decode():
                        seconds = float(frame.time) if frame.time is not None else None
                        yield "frame", (seconds, frame.pts, frame)
                elif packet.dts is not None:
                    yield "audio", packet
        except av.FFmpegError as err:
            raise _fail(self.path, err) from None

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def frame_to_array(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8 RGB, scaled by FFmpeg where the size differs."""
    return frame.to_ndarray(width=width, height=height, format="rgb24")


def frames_of(path: str | Path, limit: int | None = None) -> list[np.ndarray]:
    """The decoded RGB frames of a (short) video, for checks and measurements."""
    out = []
    with VideoReader(path) as reader:
        info = reader.info
        for kind, item in reader.packets():
            if kind == "frame":
                out.append(frame_to_array(item[2], info.width, info.height))
                if limit is not None and len(out) >= limit:
                    break
    return out


def container_for(path: str | Path) -> tuple[str, str, str, set[str] | None]:
    suffix = Path(path).suffix.lower()
    if suffix not in CONTAINERS:
        known = ", ".join(CONTAINERS)
        raise VideoError(f"{path}: unknown video type {suffix or '(none)'!r}; use one of {known}")
    return CONTAINERS[suffix]


class VideoWriter:
    """Encodes RGB frames at the reader's timestamps and passes the reader's audio through."""

    def __init__(
        self, tmp_path: str, path: Path, reader: VideoReader, width: int, height: int, *,
        quality: int = 18, audio: bool = True,
    ) -> None:  # fmt: skip
        muxer, video_codec, audio_codec, copyable = container_for(path)
        self.container = av.open(tmp_path, mode="w", format=muxer)
        src = reader.video
        self.video = self.container.add_stream(video_codec, rate=src.average_rate or src.guessed_rate or 25)
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        # Frames keep the input's timestamps (variable frame rates too); some muxers pick
        # their own time base, so packets say which one their timestamps are in.
        self._time_base = src.time_base
        self.video.time_base = self.video.codec_context.time_base = src.time_base
        if video_codec == "libx264":
            self.video.options = {"crf": str(quality), "preset": "medium"}
        else:
            self.video.options = {"crf": str(quality + 12), "b": "0", "row-mt": "1"}
        self.audio_in, self.audio, self.audio_mode = reader.audio if audio else None, None, "none"
        self._copy_audio = False
        if self.audio_in is not None:
            codec = self.audio_in.codec_context.codec.canonical_name  # "mp3", not the decoder "mp3float"
            if copyable is None or codec in copyable:
                self.audio = self.container.add_stream_from_template(self.audio_in)
                self.audio_mode, self._copy_audio = f"copied ({codec})", True
            else:
                rate = 48000 if audio_codec == "libopus" else self.audio_in.rate or 48000  # opus: 48 kHz only
                self.audio = self.container.add_stream(audio_codec, rate=rate)
                self.audio.layout = self.audio_in.layout.name if self.audio_in.layout else "stereo"
                self.audio_mode = f"re-encoded ({codec} -> {audio_codec})"
        self._next_pts = 0
        self._audio_start: int | None = None  # in samples: re-encoded audio starts where the input's did
        self._audio_samples = 0

    def write_frame(self, rgb: np.ndarray, pts: int | None) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = self._next_pts if pts is None or pts < self._next_pts else pts
        frame.time_base = self._time_base
        self._next_pts = frame.pts + 1
        self._mux_video(self.video.encode(frame))

    def _mux_video(self, packets) -> None:
        for packet in packets:
            packet.time_base = self._time_base
            self.container.mux(packet)

    def write_audio(self, packet: av.Packet) -> None:
        if self.audio is None:
            return
        if self._copy_audio:
            packet.stream = self.audio
            self.container.mux(packet)
            return
        for frame in packet.decode():
            # Timestamps in samples, contiguous from where the input's audio starts: gaps or
            # jitter in the input's stamps would upset the encoder.
            if self._audio_start is None:
                self._audio_start = round(float(frame.time or 0.0) * frame.sample_rate)
            frame.time_base = Fraction(1, frame.sample_rate)
            frame.pts = self._audio_start + self._audio_samples
            self._audio_samples += frame.samples
            for out in self.audio.encode(frame):
                self.container.mux(out)

    def close(self) -> None:
        self._mux_video(self.video.encode())
        if self.audio is not None and not self._copy_audio:
            for packet in self.audio.encode():
                self.container.mux(packet)
        self.container.close()


def write_test_clip(
    path: str | Path, frames: list[np.ndarray], fps: int = 10, audio_seconds: float | None = None,
    audio_codec: str = "aac", quality: int | None = None, *, video_start: float = 0.0,
    audio_start: float = 0.0, index_first: bool = False,
) -> Path:  # fmt: skip
    """A small clip from RGB uint8 frames, with a sine tone as audio if asked (for tests and
    experiments). ``video_start`` and ``audio_start`` (seconds) stamp the first frame and the
    first sample later, as in clips cut from longer ones; ``index_first`` puts an mp4's
    index at the front (faststart), so that its frame count is known before its frames."""
    path = Path(path)
    muxer, video_codec, _, _ = container_for(path)
    options = {"movflags": "faststart"} if index_first else {}
    with av.open(str(path), mode="w", format=muxer, options=options) as out:
        v = out.add_stream(video_codec, rate=fps)
        v.height, v.width = frames[0].shape[:2]
        v.pix_fmt = "yuv420p" if v.height % 2 == v.width % 2 == 0 else "yuv444p"  # 4:2:0 needs even sides
        if quality is not None:
            v.options = {"crf": str(quality)}
        a = None
        if audio_seconds:
            a = out.add_stream(audio_codec, rate=44100)
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = round(video_start * fps) + i
            for p in v.encode(frame):
                out.mux(p)
        for p in v.encode():
            out.mux(p)
        if a is not None:
            samples = int(audio_seconds * 44100)
            t = np.arange(samples) / 44100
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            step = 1024
            for start in range(0, samples, step):
                part = tone[:, start : start + step].copy()
                chunk = av.AudioFrame.from_ndarray(part, format="flt", layout="mono")
                chunk.sample_rate, chunk.pts = 44100, round(audio_start * 44100) + start
                for p in a.encode(chunk):
                    out.mux(p)
            for p in a.encode():
                out.mux(p)
    return path
