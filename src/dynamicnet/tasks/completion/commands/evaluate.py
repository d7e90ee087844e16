"""``dynamicnet evaluate completion``: the fill over alpha, the per-image oracle and ``--auto``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ....cli.common import add_no_progress
from ....data.masks import MASK_KINDS


def register(studies: argparse._SubParsersAction) -> None:
    p = studies.add_parser(
        "completion",
        help="completion over alpha: best single alpha, oracle, --auto, fixed networks, classical fills",
    )
    p.add_argument("recipe", help="recipe file (TOML) of the completion model")
    p.add_argument("--out", "-o", required=True, help="folder for the report, scores and cached networks")
    p.add_argument(
        "--photos", help="held-out photos (photo recipes; files the recipe trains on are left out)"
    )
    p.add_argument("--model", help="an already trained model of this recipe (file or shipped name)")
    p.add_argument("--m", type=float, nargs="+", metavar="M", help="fixed networks' O_m (default: 0 .5 1)")
    p.add_argument("--knob-points", type=int, help="alpha grid points in [0, 1] (default 11; quick: 3)")
    p.add_argument("--images", type=int, help="evaluation images (default 60; quick: 4)")
    p.add_argument(
        "--masks", nargs="+", choices=MASK_KINDS, metavar="KIND",
        help="holes to score, each reported on its own: box, free (brush strokes), centre, mixed "
        "(default: box free)",
    )  # fmt: skip
    p.add_argument(
        "--perceptual",
        default="auto",
        help="VGG16 weights of the perceptual distance (a source name or file)",
    )
    p.add_argument("--quick", action="store_true", help="few steps on tiny crops: checks the pipeline")
    add_no_progress(p)
    p.set_defaults(study=run)


def run(args) -> int:
    from ... import load_recipe
    from ..study import CompletionStudy

    recipe = load_recipe(args.recipe)
    study = CompletionStudy(
        recipe,
        Path(args.out),
        photos=Path(args.photos) if args.photos else None,
        model=args.model,
        m_values=args.m,
        knob_points=args.knob_points,
        images=args.images,
        mask_kinds=args.masks,
        perceptual=args.perceptual,
        quick=args.quick,
        progress=not args.no_progress,
    )
    results = study.run()
    print(f"wrote {Path(args.out) / 'report.md'}")
    for kind, result in results["kinds"].items():
        row = result["table"]["perceptual"]
        classical = min(result["baselines"].items(), key=lambda item: item[1]["perceptual"])
        print(
            f"{kind} holes, perceptual distance (lower is better): best single alpha "
            f"{row['best_global']['value']:.4f} (alpha {row['best_global']['alpha']:g}), per-image oracle "
            f"{row['oracle']['value']:.4f}, auto {row['auto']['value']:.4f} (the oracle's alpha for "
            f"{row['auto']['agrees']:.0%} of images); best classical fill {classical[1]['perceptual']:.4f} "
            f"({classical[0]})"
        )
    return 0
