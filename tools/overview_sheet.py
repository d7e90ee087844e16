"""The README picture: one held-out photo across alpha, one row per shipped model.

    python tools/overview_sheet.py --photo ../shared/data/photos/gcompris-red-panda.jpg

Writes ``docs/models/overview.jpg``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

import dynamicnet
from dynamicnet.data.images import read_image, tensor_to_pil
from dynamicnet.data.sheet import contact_sheet
from dynamicnet.inference import Renderer
from dynamicnet.models import shipped_models

ROOT = Path(__file__).resolve().parent.parent


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--photo", default=str(ROOT / "src/dynamicnet/server/samples/gcompris-red-panda.jpg"))
    p.add_argument("--side", type=int, default=512, help="render side (longer side)")
    p.add_argument("--cell", type=int, default=200)
    p.add_argument("--out", default=str(ROOT / "docs/models/overview.jpg"))
    return p


def main(argv=None) -> None:
    args = get_args_parser().parse_args(argv)
    photo = read_image(args.photo, max_side=args.side)
    parts = []
    for shipped in (m for m in shipped_models() if m.task == "style"):  # faces: their own cards
        renderer = Renderer(dynamicnet.load(shipped.name))
        low, high = shipped.alpha_range
        alphas = [low + (high - low) * i / 4 for i in range(5)]
        row = [tensor_to_pil(photo)] + [tensor_to_pil(renderer(photo, a).clamp(0, 1)) for a in alphas]
        labels = [shipped.name] + [f"alpha={a:g}" for a in alphas]
        parts.append(contact_sheet([row], labels, cell=args.cell))
    sheet = Image.new("RGB", (max(p.width for p in parts), sum(p.height for p in parts)), "white")
    y = 0
    for part in parts:
        sheet.paste(part, (0, y))
        y += part.height
    sheet.save(args.out, quality=85, optimize=True)
    print(args.out)


if __name__ == "__main__":
    main()
