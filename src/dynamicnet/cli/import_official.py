"""Convert the authors' official Dynamic-Net checkpoints."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import CommandError


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "import-official", help="convert an official Dynamic-Net checkpoint (style or DCGAN)"
    )
    p.set_defaults(run=run)
    p.add_argument("checkpoint", help="the authors' .pth file")
    p.add_argument(
        "--variant", choices=["normal", "dual", "dcgan"], required=True,
        help="the checkpoint's network: normal or dual style transfer, or the DCGAN",
    )  # fmt: skip
    p.add_argument("--out", "-o", required=True, help="output model file (.safetensors)")


def run(args) -> int:
    from ..io.model_file import save_model
    from ..tasks.official import import_official

    out = Path(args.out)
    if out.suffix != ".safetensors":
        raise CommandError(f"{out}: the output should end in .safetensors")
    model = import_official(args.checkpoint, args.variant)
    save_model(model, out)
    print(f"wrote {out}")
    return 0
