"""The studies: each model measured against fixed networks and the other one-knob methods."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..extras import require
from .common import add_no_progress


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("evaluate", help="measure models against their objectives and baselines")
    p.set_defaults(run=run)
    evaluate = p.add_subparsers(dest="evaluation", metavar="STUDY", required=True)
    p = evaluate.add_parser(
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

    p = evaluate.add_parser(
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

    p = evaluate.add_parser(
        "completion",
        help="completion over alpha: best single alpha, per-image oracle, --auto, fixed networks",
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
        "--perceptual",
        default="auto",
        help="VGG16 weights of the perceptual distance (a source name or file)",
    )
    p.add_argument("--quick", action="store_true", help="few steps on tiny crops: checks the pipeline")
    add_no_progress(p)


def run(args) -> int:
    from ..tasks import load_recipe

    for module in ("matplotlib", "skimage"):  # asked for before hours of training, not after
        require(module, "studies", "dynamicnet evaluate")

    if args.evaluation == "gan":
        return _evaluate_gan(args, load_recipe(args.recipe))
    if args.evaluation == "completion":
        return _evaluate_completion(args, load_recipe(args.recipe))
    from ..tasks.style.study import ObjectiveSpaceStudy

    study = ObjectiveSpaceStudy(
        load_recipe(args.recipe),
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
    best = max(results["table"], key=lambda row: row["dynamic-net"]["ratio"])
    print(f"wrote {Path(args.out) / 'report.md'}")
    print(
        f"Dynamic-Net vs fixed networks: worst ratio {best['dynamic-net']['ratio']:.3f} at m={best['m']:g} "
        f"(1.000 = as good as the network trained for O_m)"
    )
    return 0


def _evaluate_gan(args, recipe) -> int:
    from ..tasks.gan.study import GanStudy

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


def _evaluate_completion(args, recipe) -> int:
    from ..tasks.completion.study import CompletionStudy

    study = CompletionStudy(
        recipe,
        Path(args.out),
        photos=Path(args.photos) if args.photos else None,
        model=args.model,
        m_values=args.m,
        knob_points=args.knob_points,
        images=args.images,
        perceptual=args.perceptual,
        quick=args.quick,
        progress=not args.no_progress,
    )
    results = study.run()
    print(f"wrote {Path(args.out) / 'report.md'}")
    row = results["table"]["perceptual"]
    print(
        f"perceptual distance (lower is better): best single alpha {row['best_global']['value']:.4f} "
        f"(alpha {row['best_global']['alpha']:g}), per-image oracle {row['oracle']['value']:.4f}, "
        f"auto {row['auto']['value']:.4f} (the oracle's alpha for {row['auto']['agrees']:.0%} of images)"
    )
    return 0
