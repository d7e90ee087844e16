"""``dynamicnet evaluate objective-space``: the Dynamic-Net against fixed networks, pixel
blending and DNI for every O_m."""

from __future__ import annotations

import argparse
from pathlib import Path

from ....cli.common import add_no_progress


def register(studies: argparse._SubParsersAction) -> None:
    p = studies.add_parser(
        "objective-space",
        help="Dynamic-Net vs fixed networks, pixel blending and DNI for every O_m (docs/results/)",
    )
    p.add_argument("recipe", help="recipe file (TOML) of the Dynamic-Net")
    p.add_argument(
        "--photos", required=True, help="held-out photos (files the recipe trains on are left out)"
    )
    p.add_argument("--out", "-o", required=True, help="folder for the report, scores and cached networks")
    p.add_argument("--model", help="an already trained Dynamic-Net of this recipe (file or shipped name)")
    p.add_argument("--set", dest="set_name", help="tuned block set whose objective is O_1 (default: first)")
    p.add_argument(
        "--m",
        type=float,
        nargs="+",
        metavar="M",
        help="the O_m to train for (default: 0 .25 .5 .75 1)",
    )
    p.add_argument(
        "--fixed-steps", type=int, metavar="N",
        help="train the fixed networks for N steps (default: the main stage's; the main + tuning steps "
        "give them the Dynamic-Net's whole budget, and then m = 0 is trained too)",
    )  # fmt: skip
    p.add_argument(
        "--cache", help="folder of the trained networks (default OUT/cache); two studies of recipes that "
        "differ only in their blocks share the fixed networks through it"
    )  # fmt: skip
    p.add_argument("--knob-points", type=int, help="alpha grid points in [0, 1] (default 21; quick: 5)")
    p.add_argument("--size", type=int, help="photos' longer side when scored (default 384; quick: 48)")
    p.add_argument("--quick", action="store_true", help="few steps on tiny crops: checks the pipeline")
    add_no_progress(p)
    p.set_defaults(study=run)


def run(args) -> int:
    from ... import load_recipe
    from ..study import ObjectiveSpaceStudy

    recipe = load_recipe(args.recipe)
    study = ObjectiveSpaceStudy(
        recipe,
        Path(args.photos),
        Path(args.out),
        model=args.model,
        set_name=args.set_name,
        m_values=args.m,
        knob_points=args.knob_points,
        size=args.size,
        fixed_steps=args.fixed_steps,
        cache=Path(args.cache) if args.cache else None,
        quick=args.quick,
        progress=not args.no_progress,
    )
    results = study.run()
    worst = max(results["table"], key=lambda row: row["dynamic-net"]["ratio"])
    print(f"wrote {Path(args.out) / 'report.md'}")
    print(
        f"Dynamic-Net vs fixed networks: worst ratio {worst['dynamic-net']['ratio']:.3f} at m={worst['m']:g} "
        f"(1.000 = as good as the network trained for O_m)"
    )
    return 0
