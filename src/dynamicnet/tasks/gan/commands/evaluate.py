"""``dynamicnet evaluate gan``: attribute rate and KID over alpha against fixed generators and DNI."""

from __future__ import annotations

import argparse
from pathlib import Path

from ....cli.common import add_no_progress


def register(studies: argparse._SubParsersAction) -> None:
    p = studies.add_parser(
        "gan", help="Dynamic DCGAN: attribute rate and KID over alpha vs fixed generators and DNI"
    )
    p.add_argument("recipe", help="recipe file (TOML) of the Dynamic DCGAN")
    p.add_argument("--out", "-o", required=True, help="folder for the report, scores and cached networks")
    p.add_argument("--model", help="an already trained model of this recipe (file or shipped name)")
    p.add_argument("--samples", type=int, help="generated faces per point (default 1000; quick: 8)")
    p.add_argument("--knob-points", type=int, help="alpha grid points in [0, 1] (default 11; quick: 3)")
    p.add_argument(
        "--perceptual", default="auto", help="VGG16 weights for the KID features (a source name or file)"
    )
    p.add_argument("--quick", action="store_true", help="few steps on tiny batches: checks the pipeline")
    add_no_progress(p)
    p.set_defaults(study=run)


def run(args) -> int:
    from ... import load_recipe
    from ..study import GanStudy

    recipe = load_recipe(args.recipe)
    study = GanStudy(
        recipe,
        Path(args.out),
        model=args.model,
        samples=args.samples,
        knob_points=args.knob_points,
        perceptual=args.perceptual,
        quick=args.quick,
        progress=not args.no_progress,
    )
    results = study.run()
    print(f"wrote {Path(args.out) / 'report.md'}")
    rates = [p["rate"] for p in results["points"]["dynamic-net"]]
    print(
        f"share classified {results['subsets']['tuned']!r} over alpha: {rates[0]:.2f} -> {rates[-1]:.2f} "
        f"(monotone: {'yes' if results['monotone']['dynamic-net'] else 'no'}; "
        f"classifier accuracy {results['classifier']['accuracy']:.1%})"
    )
    return 0
