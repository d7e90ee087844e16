"""``dynamicnet tint IMAGE --model M --alpha A --out FILE``."""

from __future__ import annotations

import argparse
from pathlib import Path

from dynamicnet.cli.common import add_device, alpha_settings, finite, load_for, output_file

from ..model import TASK, build


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("tint", help="tint an image")
    p.set_defaults(run=run)
    p.add_argument("image")
    p.add_argument("--model", "-m", required=True)
    p.add_argument("--alpha", "-a", nargs="+", default=["1"], help="alpha (one output: the first)")
    p.add_argument("--out", "-o", required=True)
    add_device(p)


def run(args) -> int:
    import torch

    from dynamicnet.data.images import read_image, write_image
    from dynamicnet.devices import resolve_device

    device = resolve_device(args.device)
    model = load_for(args.model, device, TASK, build, "a tint model")
    (spec, alpha), *_ = alpha_settings(args, model)  # checked against the model: one line if wrong
    output_file(Path(args.out), "--out")
    with torch.no_grad():
        out = finite(model(read_image(args.image)[None].to(device), alpha=alpha), spec)
    write_image(out[0].cpu(), Path(args.out))
    print(args.out)
    return 0
