"""dynamicnet stylize-video: keyframed alpha, audio kept, flicker reported, one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from dynamicnet.cli.main import main
from dynamicnet.io.video import VideoReader, frames_of, write_test_clip


@pytest.fixture
def clip(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.random((1, 1, 3)) * 200 + rng.random((24, 32, 1)) * 40
    frames = [np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8) for _ in range(6)]
    return write_test_clip(tmp_path / "in.mp4", frames, fps=3, audio_seconds=2.0)


def test_stylize_video_writes_the_clip_with_its_audio(tiny_model_file, clip, tmp_path, capsys):
    out = tmp_path / "out" / "styled.mp4"
    args = ["stylize-video", str(clip), "--model", str(tiny_model_file), "--alpha", "0:0", "2s:1"]
    assert main([*args, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "6 frames, 32x24 at 3 fps, audio copied (aac)" in printed
    assert "flicker: mean change per frame" in printed and "stabilize=blend" in printed
    with VideoReader(out) as reader:
        assert reader.info.audio == "aac" and abs(reader.info.duration - 2.0) < 0.1
    assert len(frames_of(out)) == 6

    silent = tmp_path / "silent.mkv"
    assert main([*args, "--out", str(silent), "--no-progress", "--no-audio", "--preserve-color"]) == 0
    with VideoReader(silent) as reader:
        assert reader.info.audio is None


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--alpha", "0:0", "soon:1"], "bad keyframe 'soon:1'"),
        (["--alpha", "-1s:0", "2:1"], "bad keyframe '-1s:0'"),
        (["--alpha", "1s"], "bad keyframe '1s'"),
        (["--alpha", "0:a=1"], "unknown"),
        (["--stabilize", "none", "--max-side", "1"], "--max-side must be at least 2"),
        (["--quality", "99"], "--quality must be between 0 and 51"),
    ],
)
def test_bad_settings_fail_in_one_line_before_any_output(
    tiny_model_file, clip, tmp_path, capsys, extra, message
):
    out = tmp_path / "o.mp4"
    argv = ["stylize-video", str(clip), "--model", str(tiny_model_file), "--out", str(out), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and not out.exists()


def test_bad_files_fail_in_one_line(tiny_model_file, tiny_gan_file, clip, tmp_path, capsys):
    text = tmp_path / "notes.mp4"
    text.write_text("hello")
    cases = [
        ([str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "a.mp4")], "no such file"),
        ([str(text), "--out", str(tmp_path / "b.mp4")], "not a readable video"),
        ([str(clip), "--out", str(tmp_path / "c.avi")], "unknown video type '.avi'"),
        ([str(clip), "--out", str(clip)], "would overwrite the input"),
        ([str(tmp_path), "--out", str(tmp_path / "e.mp4")], "is a folder, not a video"),
    ]
    for argv, message in cases:
        assert main(["stylize-video", *argv, "--model", str(tiny_model_file)]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err, err
    gan = ["stylize-video", str(clip), "--model", str(tiny_gan_file), "--out", str(tmp_path / "d.mp4")]
    assert main(gan) == 2
    assert "not a style model" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "notes.mp4"]


def test_a_misplaced_video_gets_a_hint_and_one_frame_no_flicker_line(tiny_model_file, tmp_path, capsys):
    one = write_test_clip(tmp_path / "one.mp4", [np.full((24, 32, 3), 120, np.uint8)])
    argv = ["stylize-video", "--model", str(tiny_model_file), "--alpha", "0:0", "1:1", str(one)]
    assert main([*argv, "--out", str(tmp_path / "o.mp4")]) == 2
    assert "put the video before --alpha" in capsys.readouterr().err
    assert (
        main(["stylize-video", str(one), "--model", str(tiny_model_file), "--out", str(tmp_path / "o.mp4")])
        == 0
    )
    printed = capsys.readouterr().out
    assert "1 frames" in printed and "flicker" not in printed and "nan" not in printed
