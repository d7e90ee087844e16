"""The flicker measurement of docs/video.md: synthetic clips, every stabilisation, one table.

    python tools/video_flicker.py --out runs/video-flicker

Three clips are made from held-out photos (none of them was used in training):

- ``static``: a still photo with fresh sensor noise in each frame (sigma 3 of 255), H.264
  at CRF 23 as a phone would record it: a tripod shot.
- ``static+object``: the same with a dark disc crossing the frame: motion inside a static shot.
- ``pan``: a window sliding across a larger photo, 2 px per frame: camera motion.

Each clip is stylized with every ``--stabilize`` mode. The table gives the mean absolute
change between consecutive frames (0..255) of input and output, measured along the camera's
pan (as ``stylize-video`` reports it), their ratio, and where the
how far the stabilised output is from the unstabilised one (0..255), over all pixels and
where the input moved (pixels whose change exceeds 24/255): the price of stabilising, as
lag, ghosting, or texture that stays put while the camera pans.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

import dynamicnet
from dynamicnet.inference.video import STABILIZE, stylize_video
from dynamicnet.io.video import frames_of, write_test_clip

ROOT = Path(__file__).resolve().parent.parent


def _photo(path: Path, width: int) -> np.ndarray:
    img = Image.open(path).convert("RGB")
    height = round(img.height * width / img.width) // 2 * 2
    return np.asarray(img.resize((width, height), Image.Resampling.LANCZOS)).astype(float)


def make_clips(photos: Path, folder: Path, width: int, frames: int, fps: int) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    still = _photo(photos / "gcompris-red-panda.jpg", width)
    h, w = still.shape[:2]
    yy, xx = np.mgrid[:h, :w]

    def noisy(img: np.ndarray) -> np.ndarray:
        return np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)

    static = [noisy(still) for _ in range(frames)]
    moving = []
    for i in range(frames):
        img = still.copy()
        cx, cy, r = w * (0.15 + 0.7 * i / (frames - 1)), h * 0.5, h * 0.12
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] *= 0.25
        moving.append(noisy(img))
    wide = _photo(photos / "gcompris-eiffel-tower.jpg", width + 2 * frames)
    top = (wide.shape[0] - h) // 2
    pan = [noisy(wide[top : top + h, 2 * i : 2 * i + w]) for i in range(frames)]
    clips = {"static": static, "static+object": moving, "pan": pan}
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, clip in clips.items():
        path = folder / f"{name.replace('+', '-')}.mp4"
        write_test_clip(path, clip, fps=fps, quality=23)
        out[name] = path
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", help="style models (default: starry-level, starry-to-wave)")
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--photos", default=str(ROOT.parent / "shared" / "data" / "photos"))
    p.add_argument("--width", type=int, default=480)
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--fps", type=int, default=24)
    p.add_argument("--out", default="runs/video-flicker")
    args = p.parse_args(argv)
    out = Path(args.out)
    clips = make_clips(Path(args.photos), out / "clips", args.width, args.frames, args.fps)
    rows = []
    for model_name in args.model or ["starry-level", "starry-to-wave"]:
        renderer = dynamicnet.Renderer(dynamicnet.load(model_name))
        for clip_name, clip in clips.items():
            inputs = np.stack(frames_of(clip)).astype(float)
            moved = np.abs(np.diff(inputs, axis=0)).max(axis=-1) > 24
            plain = None
            for how in STABILIZE:
                target = out / f"{model_name}-{clip.stem}-{how}.mp4"
                start = time.perf_counter()
                report = stylize_video(clip, target, renderer, lambda t: args.alpha, stabilize=how)
                seconds = time.perf_counter() - start
                frames = np.stack(frames_of(target)).astype(float)
                if how == "none":
                    plain = frames
                gaps = np.abs(frames - plain).mean(axis=-1)[1:]
                gap = float(gaps[moved].mean()) if moved.any() else None  # None: nothing moved
                row = {
                    "model": model_name, "clip": clip_name, "stabilize": how,
                    "input_change": round(report.input_change, 3),
                    "output_change": round(report.output_change, 3),
                    "ratio": round(report.flicker_ratio, 3),
                    "gap": round(float(gaps.mean()), 2), "moving_gap": None if gap is None else round(gap, 2),
                    "ms_per_frame": round(1000 * seconds / report.frames, 1),
                }  # fmt: skip
                rows.append(row)
                print(json.dumps(row), flush=True)
    (out / "results.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "| model | clip | stabilize | input change | output change | ratio | gap, all pixels "
        "| gap where it moved | ms/frame |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['clip']} | {r['stabilize']} | {r['input_change']:.2f} | "
            f"{r['output_change']:.2f} | {r['ratio']:.2f} | {r['gap']:.2f} | "
            f"{'-' if r['moving_gap'] is None else format(r['moving_gap'], '.2f')} | "
            f"{r['ms_per_frame']:.0f} |"
        )
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
