"""``dynamicnet evaluate restore``: the perception-distortion knob against DNI, pixel blending
and fixed networks, the per-image oracle and ``--auto``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ....cli.common import add_no_progress


def register(studies: argparse._SubParsersAction) -> None:
    p = studies.add_parser(
        "restore", help="restoration over alpha against DNI, pixel blending, fixed networks and bicubic"
    )
    p.add_argument("recipe", help="recipe file (TOML) of the restore model")
    p.add_argument("--out", "-o", required=True, help="folder for the report, scores and cached networks")
    p.add_argument(
        "--photos", required=True, help="held-out photos (files the recipe trains on are left out)"
    )
    p.add_argument("--model", help="an already trained model of this recipe (file or shipped name)")
    p.add_argument("--m", type=float, nargs="+", metavar="M", help="fixed networks' O_m (default: 0 1)")
    p.add_argument("--knob-points", type=int, help="knob grid points in [0, 1] (default 11; quick: 3)")
    p.add_argument("--images", type=int, help="evaluation crops (default 40; quick: 3)")
    p.add_argument("--size", type=int, help="side of the clean crops in pixels (default 192)")
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
    from ..study import RestoreStudy

    study = RestoreStudy(
        load_recipe(args.recipe),
        Path(args.out),
        photos=Path(args.photos),
        model=args.model,
        m_values=args.m,
        knob_points=args.knob_points,
        images=args.images,
        size=args.size,
        perceptual=args.perceptual,
        quick=args.quick,
        progress=not args.no_progress,
    )
    results = study.run()
    print(f"wrote {Path(args.out) / 'report.md'}")
    base, ours, dni = results["baseline"], results["curves"]["dynamic-net"], results["curves"]["dni"]
    print(
        f"PSNR: {base['name']} {base['psnr']:.2f}, Dynamic-Net alpha 0 {ours['psnr'][0]:.2f}, "
        f"alpha 1 {ours['psnr'][-1]:.2f}, DNI at 1 {dni['psnr'][-1]:.2f}; perceptual: alpha 0 "
        f"{ours['perceptual'][0]:.4f}, alpha 1 {ours['perceptual'][-1]:.4f}, "
        f"DNI at 1 {dni['perceptual'][-1]:.4f}"
    )
    return 0
