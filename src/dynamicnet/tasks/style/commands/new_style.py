"""``dynamicnet new-style PAINTING... --name NAME``: a Dynamic-Net for your own painting(s)."""

from __future__ import annotations

import argparse
import sys

from ....errors import printable


def register(verbs: argparse._SubParsersAction) -> None:
    from ..new_style import KNOBS

    p = verbs.add_parser(
        "new-style",
        help="make a style model of your own painting (or several) in minutes",
        description="Fine-tune a shipped style model for your painting: the result is listed by "
        "'dynamicnet models' and used by name. Interrupted, the same command continues it.",
    )
    p.set_defaults(run=run)
    p.add_argument(
        "paintings", nargs="+", metavar="PAINTING", help="painting image(s); several make one slider each"
    )
    p.add_argument("--name", required=True, help="the new model's name (lower-case words joined by '-')")
    p.add_argument(
        "--knob",
        choices=list(KNOBS),
        default="level",
        help="what alpha moves: " + "; ".join(f"{k}: {v.meaning}" for k, v in KNOBS.items()),
    )
    p.add_argument("--minutes", type=float, default=10.0, help="time budget on this machine (default 10)")
    p.add_argument("--photos", help="folder of photos to train on (default: the shipped models' photos)")
    p.add_argument(
        "--perceptual", default="auto", metavar="SOURCE", help="perceptual weights (see weights list)"
    )
    p.add_argument("--force", action="store_true", help="replace a model of that name, or an unfinished run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    from ..new_style import new_style

    try:
        path = new_style(
            args.paintings,
            args.name,
            knob=args.knob,
            minutes=args.minutes,
            photos=args.photos,
            perceptual=args.perceptual,
            force=args.force,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        print("\ndynamicnet new-style: interrupted; the same command continues it", file=sys.stderr)
        return 130
    from ....io.model_file import read_metadata

    sets = read_metadata(path)["sets"]
    print(f"{args.name} is ready: dynamicnet stylize IMG --model {args.name} --alpha 0 0.5 1 --out DIR")
    if sets != ["default"]:
        mix = ",".join(f"{s}={1 / len(sets):.2g}" for s in sets)
        print(f"mix the paintings with --alpha {mix} (one weight per painting: {', '.join(sets)})")
    print(f"card: {printable(path.with_suffix('.md'))}")
    return 0
