"""Video files through PyAV: clips made in the test, read back with their timing and audio."""

from __future__ import annotations

import numpy as np
import pytest

from dynamicnet.io.video import VideoError, VideoReader, container_for, write_test_clip


def _frames(n=6, h=32, w=48, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.random((h, w, 3)) * 255).astype(np.uint8) for _ in range(n)]


def test_a_written_clip_reads_back_with_size_rate_frames_and_audio(tmp_path):
    path = write_test_clip(tmp_path / "c.mp4", _frames(), fps=5, audio_seconds=1.2)
    with VideoReader(path) as reader:
        info = reader.info
        frames = [item for kind, item in reader.packets() if kind == "frame"]
    assert (info.width, info.height, info.fps, info.audio) == (48, 32, 5, "aac")
    assert len(frames) == 6
    assert [round(t, 3) for t, _, _ in frames] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


@pytest.mark.parametrize(
    "content", [b"", b"not a video at all" * 100, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 50]
)
def test_unreadable_files_give_one_line(tmp_path, content):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    with pytest.raises(VideoError) as err, VideoReader(bad) as reader:
        list(reader.packets())
    assert str(bad) in str(err.value) and "\n" not in str(err.value)


def test_missing_file_and_unknown_output_type(tmp_path):
    with pytest.raises(VideoError, match="no such file"):
        VideoReader(tmp_path / "nope.mp4")
    with pytest.raises(VideoError, match="unknown video type '.avi'"):
        container_for(tmp_path / "out.avi")
