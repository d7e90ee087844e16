"""Stylize a video with alpha keyframed over time."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ....cli.common import CommandError, add_device, add_no_progress, add_preserve_color, load_for
from ....errors import printable
from ....extras import require
from ..model import TASK, build


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "stylize-video", help="stylize a video; alpha follows keyframes over time, audio is kept"
    )
    p.set_defaults(run=run)
    p.add_argument("video", nargs="?", help="input video (any format FFmpeg reads; before --alpha)")
    p.add_argument("--model", "-m", required=True, help="style model file (.safetensors) or shipped name")
    p.add_argument(
        "--alpha", "-a", nargs="+", default=["1"], metavar="T:A",
        help="keyframes TIME:ALPHA, linear in between, e.g. 0:0 5s:1 10s:0.3 (times in s or ms); "
        "one plain ALPHA holds throughout. Every alpha form of 'stylize' works. Default: 1",
    )  # fmt: skip
    p.add_argument("--out", "-o", required=True, help="output video: .mp4, .mov, .mkv or .webm")
    p.add_argument(
        "--stabilize", choices=["none", "stats", "blend", "both"], default="blend",
        help="flicker reduction: blend (default: keep the previous output where the input did not "
        "change), stats (smoothed normalisation statistics), both, or none (docs/video.md)",
    )  # fmt: skip
    add_preserve_color(p, "video")
    p.add_argument("--max-side", type=int, help="shrink frames so the longer side is at most this")
    p.add_argument(
        "--quality", type=int, default=18, help="encoder CRF: lower is better and larger (default 18)"
    )
    p.add_argument("--no-audio", action="store_true", help="leave the audio out")
    add_no_progress(p)
    add_device(p)
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto", help="as for 'stylize'")


def run(args) -> int:
    from tqdm import tqdm

    from ....cli.alpha_args import parse_keyframes
    from ....devices import resolve_device
    from ....inference import Renderer
    from ....inference.video import stylize_video
    from ....io.paths import regular_file

    if args.preserve_color == "histogram":
        require("skimage", "studies", "--preserve-color histogram")
    if args.video is None:
        hint = " (put the video before --alpha)" if any(Path(a).is_file() for a in args.alpha) else ""
        raise CommandError(f"no input video given{hint}")
    schedule = parse_keyframes(args.alpha)
    if args.max_side is not None and args.max_side < 2:
        raise CommandError("--max-side must be at least 2")
    if not 0 <= args.quality <= 51:
        raise CommandError("--quality must be between 0 and 51")
    if Path(args.out).resolve() == Path(args.video).resolve():
        raise CommandError(f"{printable(args.out)}: the output would overwrite the input")
    if Path(args.video).exists():
        regular_file(args.video, "a video", CommandError)
    device = resolve_device(args.device)
    model = load_for(args.model, device, TASK, build, "a style model")
    model.net.check_alpha(*(alpha for _, alpha in schedule.keys))
    renderer = Renderer(model, precision=args.precision, device=device)
    bars = []  # made at the first frame: a file that fails to open prints only its error

    def progress(done: int, total: int | None) -> None:
        if not bars:
            bars.append(
                tqdm(desc="stylize-video", unit="frame", total=total, disable=args.no_progress, leave=False)
            )  # leave=False: a failure mid-way prints only its error line
        bars[0].update(done - bars[0].n)

    try:
        report = stylize_video(
            args.video, args.out, renderer, schedule, stabilize=args.stabilize, preserve=args.preserve_color,
            max_side=args.max_side, quality=args.quality, audio=not args.no_audio, progress=progress,
        )  # fmt: skip
    finally:
        for bar in bars:
            bar.close()
    print(args.out)
    print(
        f"{report.frames} frames, {report.width}x{report.height} at {report.fps:g} fps, "
        f"audio {report.audio}, {report.seconds:.1f} s ({report.frames / max(report.seconds, 1e-9):.1f} "
        "frames/s)"
    )
    if report.frames > 1:
        print(
            f"flicker: mean change per frame {report.output_change:.2f} (input {report.input_change:.2f}, "
            f"ratio {report.flicker_ratio:.2f}); stabilize={args.stabilize}"
            + (f"; {report.cuts} cut(s) restarted it" if report.cuts else "")
        )
    if report.warning:
        print(f"warning: {report.warning}", file=sys.stderr)
    return 0
