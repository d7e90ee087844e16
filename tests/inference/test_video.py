"""Video stylization: alpha keyframes, flicker reduction, cuts, sizes and all-or-nothing output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dynamicnet.cli.alpha_args import parse_keyframes
from dynamicnet.core import AlphaError
from dynamicnet.inference import Renderer
from dynamicnet.inference.norm import RenderInstanceNorm
from dynamicnet.inference.video import (
    AlphaSchedule,
    FlickerMeter,
    MotionBlend,
    SmoothedStatistics,
    estimate_shift,
    stylize_video,
)
from dynamicnet.io.video import VideoError, frames_of, write_test_clip


def _photo(h=40, w=56, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.nn.functional.interpolate(torch.rand(1, 3, 5, 7, generator=g), size=(h, w), mode="bilinear")
    return (base[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)


def _static_clip(path, n=10, noise=4.0, seed=0, **kw):
    """A still photo with fresh sensor noise in every frame: a static camera."""
    rng, photo = np.random.default_rng(seed), _photo().astype(float)
    frames = [np.clip(photo + rng.normal(0, noise, photo.shape), 0, 255).astype(np.uint8) for _ in range(n)]
    return write_test_clip(path, frames, **kw)


@pytest.fixture
def renderer(make_model):
    return Renderer(make_model(), precision="fp32")


# --- keyframes ------------------------------------------------------------------------------
def test_alpha_is_linear_between_keyframes_and_held_outside():
    schedule = parse_keyframes(["0:0", "5s:1", "10s:0.3"])
    assert [schedule(t) for t in (0, 2.5, 5, 7.5, 10, 60)] == pytest.approx([0, 0.5, 1, 0.65, 0.3, 0.3])
    late = parse_keyframes(["2500ms:1", "1:0"])  # any order; ms allowed; before the first: held
    assert late(0) == 0 and late(1.75) == pytest.approx(0.5)
    assert parse_keyframes(["0.7"])(123) == 0.7


def test_every_alpha_form_interpolates():
    named = parse_keyframes(["0:starry=1,wave=0", "2:starry=0,wave=1"])
    assert named(0.5) == pytest.approx({"starry": 0.75, "wave": 0.25})
    other_names = parse_keyframes(["0:block0=1", "1s:block2=1"])  # a name left out is 0 there
    assert other_names(0.25) == pytest.approx({"block0": 0.75, "block2": 0.25})
    per_block = parse_keyframes(["0:0,0,1", "4:1,1,1"])
    assert per_block(1) == pytest.approx([0.25, 0.25, 1])


@pytest.mark.parametrize(
    "specs, match",
    [
        (["5s"], "TIME:ALPHA"),
        (["0:0", "5"], "TIME:ALPHA"),
        (["x:1", "2:0"], "TIME:ALPHA"),
        (["-1:0", "2:1"], "TIME:ALPHA"),
        (["1:0", "1s:1"], "same time"),
        (["0:0", "1:a=1"], "same form"),
        (["0:0,1", "1:0,1,1"], "same form"),
        (["0:0", "1:nan"], "not a finite number"),
    ],
)
def test_bad_keyframes_are_refused(specs, match):
    with pytest.raises(AlphaError, match=match):
        parse_keyframes(specs)


def test_a_schedule_must_be_ordered():
    with pytest.raises(AlphaError, match="increasing"):
        AlphaSchedule(((2.0, 0.0), (1.0, 1.0)))


# --- stabilisers ----------------------------------------------------------------------------
def test_smoothed_statistics_are_a_moving_average():
    norm, smooth = RenderInstanceNorm(2), SmoothedStatistics(momentum=0.75)
    a, b = torch.rand(1, 2, 4, 4), torch.rand(1, 2, 4, 4) * 3 + 1
    with smooth.context():
        norm(a)
        out = norm(b)
    var_a, mean_a = torch.var_mean(a, dim=(2, 3), correction=0)
    var_b, mean_b = torch.var_mean(b, dim=(2, 3), correction=0)
    mean, var = 0.75 * mean_a + 0.25 * mean_b, 0.75 * var_a + 0.25 * var_b
    expected = (b - mean[..., None, None]) / torch.sqrt(var[..., None, None] + norm.eps)
    assert torch.allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("shift", [(0, 0), (0, 2), (3, -5), (-6, 9)])
def test_a_camera_pan_is_estimated(shift):
    scene = torch.from_numpy(_photo(h=100, w=140, seed=3)).permute(2, 0, 1).float() / 255
    dy, dx = shift
    now, before = scene[:, 10:90, 20:120], scene[:, 10 - dy : 90 - dy, 20 - dx : 120 - dx]
    assert estimate_shift(now, before) == (-dy, -dx)  # roll ``before`` by this to line it up


def test_flat_or_unrelated_frames_are_no_pan():
    flat = torch.full((3, 40, 56), 0.3)
    assert estimate_shift(flat, flat) == (0, 0)
    noise = torch.rand(2, 3, 40, 56, generator=torch.Generator().manual_seed(0))
    assert estimate_shift(noise[0], noise[1]) == (0, 0)


def test_on_a_pan_the_blend_follows_the_scene(renderer):
    """Along the pan, the compensated blend flickers less than no blend and than a blend that
    leaves the texture standing while the scene moves."""
    scene = torch.from_numpy(_photo(h=48, w=100, seed=4)).permute(2, 0, 1).float() / 255
    frames = [scene[:, :, 2 * i : 2 * i + 56] for i in range(8)]
    plain = [renderer(f, alpha=1.0).clamp(0, 1) for f in frames]

    def flicker(outputs) -> float:
        meter = FlickerMeter()
        for out in outputs:
            meter.add(out, (0, -2))  # the scene moves 2 px left per frame
        return meter.mean

    blended = {}
    for compensate in (True, False):
        blend = MotionBlend(compensate=compensate)
        blended[compensate] = flicker([blend(f, y) for f, y in zip(frames, plain)])
    assert blended[True] < 0.7 * min(flicker(plain), blended[False]), (blended, flicker(plain))


def test_blend_calms_a_static_noisy_clip_and_stats_leave_identical_frames_alone(renderer, tmp_path):
    clip = _static_clip(tmp_path / "in.mp4")
    report = {
        how: stylize_video(clip, tmp_path / f"{how}.mp4", renderer, lambda t: 1.0, stabilize=how, quality=0)
        for how in ("none", "blend", "stats")
    }
    assert report["none"].output_change > report["none"].input_change  # the flicker to remove
    assert report["blend"].output_change < 0.7 * report["none"].output_change
    still = write_test_clip(tmp_path / "still.mp4", [_photo()] * 4)
    outs = {
        how: frames_of(stylize_video(still, tmp_path / f"s-{how}.mkv", renderer, lambda t: 1.0,
                                     stabilize=how, quality=0) and tmp_path / f"s-{how}.mkv")
        for how in ("none", "stats")
    }  # fmt: skip
    assert all(np.array_equal(a, b) for a, b in zip(outs["none"], outs["stats"]))


def test_alpha_follows_the_schedule_frame_by_frame(renderer, tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", [_photo()] * 5, fps=2)  # frames at 0, 0.5, ... 2 s
    out = tmp_path / "out.mp4"
    report = stylize_video(clip, out, renderer, parse_keyframes(["0:0", "2:1"]), stabilize="none", quality=0)
    assert report.frames == 5
    decoded = frames_of(out)
    photo = torch.from_numpy(frames_of(clip)[0]).permute(2, 0, 1).float() / 255
    renders = [
        (renderer(photo, alpha=a).clamp(0, 1) * 255).permute(1, 2, 0).numpy() for a in (0, 0.25, 0.5, 0.75, 1)
    ]
    for i, frame in enumerate(decoded):
        errors = [np.abs(frame.astype(float) - r).mean() for r in renders]
        assert int(np.argmin(errors)) == i, errors


def test_a_cut_restarts_the_blend(renderer, tmp_path):
    frames = [_photo(seed=1)] * 3 + [_photo(seed=2)] * 3
    clip = write_test_clip(tmp_path / "in.mp4", frames)
    blended = stylize_video(clip, tmp_path / "b.mp4", renderer, lambda t: 1.0, stabilize="both", quality=0)
    stylize_video(clip, tmp_path / "p.mp4", renderer, lambda t: 1.0, stabilize="none", quality=0)
    assert blended.cuts == 1
    after_cut = [frames_of(tmp_path / name)[3].astype(float) for name in ("b.mp4", "p.mp4")]
    assert np.abs(after_cut[0] - after_cut[1]).mean() < 1.0  # no ghost of the first shot


def test_keyframe_times_count_from_the_first_frame(renderer, tmp_path):
    """A clip whose first frame is stamped 3 s (cut from a longer one, or MPEG-TS) still
    starts at the first keyframe."""
    path = write_test_clip(tmp_path / "late.mkv", [_photo()] * 5, fps=2, video_start=3.0)
    used = []

    def schedule(t: float) -> float:
        used.append(round(t, 3))
        return min(1.0, t / 2)

    stylize_video(path, tmp_path / "out.mp4", renderer, schedule, stabilize="none")
    assert used == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_re_encoded_audio_keeps_its_start(renderer, tmp_path):
    import av

    path = write_test_clip(
        tmp_path / "late-audio.mkv", [_photo()] * 10, audio_seconds=0.5, audio_codec="flac", audio_start=0.5
    )
    for name in ("out.mp4", "out.webm"):  # flac is re-encoded: aac, opus
        report = stylize_video(path, tmp_path / name, renderer, lambda t: 1.0)
        assert report.audio.startswith("re-encoded (flac")
        with av.open(str(tmp_path / name)) as clip:
            stream = clip.streams.audio[0]
            starts = [float(p.pts * p.time_base) for p in clip.demux(stream) if p.pts is not None]
        assert 0.45 < max(starts[:2]) < 0.55, starts[:3]  # the first packet may be encoder priming


def test_a_file_cut_short_is_refused_or_flagged(renderer, tmp_path):
    clip = _static_clip(tmp_path / "in.mkv", n=40)
    data = clip.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: int(len(data) * 0.7)])  # matroska keeps no frame count: decodes a part
    report = stylize_video(cut, tmp_path / "out.mp4", renderer, lambda t: 1.0)
    assert 0 < report.frames < 30 and "may be damaged or cut off" in report.warning

    # the index first (faststart): this mp4 says how many frames it has before they come
    fast = write_test_clip(tmp_path / "fast.mp4", frames_of(clip), index_first=True)
    data = fast.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: int(len(data) * 0.7)])
    with pytest.raises(VideoError, match=r"cut\.mp4: (only \d+ of its 40 frames|not a readable video)"):
        stylize_video(tmp_path / "cut.mp4", tmp_path / "out2.mp4", renderer, lambda t: 1.0)
    assert not (tmp_path / "out2.mp4").exists()
    assert stylize_video(clip, tmp_path / "whole.mp4", renderer, lambda t: 1.0).warning is None


def test_failures_leave_no_folders(renderer, tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("hello")
    with pytest.raises(VideoError):
        stylize_video(text, tmp_path / "a" / "b" / "out.mp4", renderer, lambda t: 1.0)
    assert not (tmp_path / "a").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    clip = _static_clip(tmp_path / "in.mp4", n=3)
    with pytest.raises(VideoError, match="cannot create the output folder"):
        stylize_video(clip, blocker / "out.mp4", renderer, lambda t: 1.0)


def test_sizes_become_even_and_audio_is_kept(renderer, tmp_path):
    frames = [_photo(h=33, w=47)] * 4
    clip = write_test_clip(tmp_path / "in.mp4", frames, fps=4, audio_seconds=1.0)
    report = stylize_video(clip, tmp_path / "o.mp4", renderer, lambda t: 0.5)
    assert (report.width, report.height, report.frames, report.audio) == (46, 32, 4, "copied (aac)")
    small = stylize_video(clip, tmp_path / "s.webm", renderer, lambda t: 0.5, max_side=20)
    assert (small.width, small.height) == (20, 14) and small.audio.startswith("re-encoded (aac -> libopus)")


def test_nothing_is_written_when_the_input_breaks(renderer, tmp_path):
    clip = _static_clip(tmp_path / "in.mp4", n=30)
    broken = tmp_path / "broken.mp4"
    data = clip.read_bytes()
    broken.write_bytes(data[: len(data) // 3])  # the index is at the end: unreadable
    with pytest.raises(VideoError):
        stylize_video(broken, tmp_path / "out.mp4", renderer, lambda t: 1.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4", "in.mp4"]
