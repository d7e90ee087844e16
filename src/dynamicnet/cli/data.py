"""Datasets: an offline face set laid out like CelebA."""

from __future__ import annotations

import argparse

from .common import CommandError, add_no_progress


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("data", help="make datasets (an offline face set in CelebA's layout)")
    p.set_defaults(run=run)
    data = p.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    p = data.add_parser("avatars", help="cartoon faces with known attributes, laid out like CelebA")
    p.add_argument(
        "--out", "-o", required=True, help="folder to write (img_align_celeba/, list_attr_celeba.txt, ...)"
    )
    p.add_argument("--n", type=int, required=True, help="number of faces")
    p.add_argument("--seed", type=int, default=0, help="the same seed draws the same faces (default 0)")
    p.add_argument("--workers", type=int, help="processes drawing faces (default: CPU count, at most 8)")
    add_no_progress(p)


def run(args) -> int:
    from ..data.avatars import ATTRIBUTES, write_avatar_set

    if args.workers is not None and args.workers < 1:
        raise CommandError("--workers must be at least 1")
    if args.seed < 0:
        raise CommandError(f"--seed must be 0 or more, got {args.seed}")
    out = write_avatar_set(args.out, args.n, args.seed, workers=args.workers, progress=not args.no_progress)
    print(f"wrote {args.n} faces to {out} with the attributes {', '.join(ATTRIBUTES)}")
    return 0
