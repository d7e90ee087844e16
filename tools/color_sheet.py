"""The colour-preservation picture of docs/color.md: photo, stylized, luminance, histogram.

python tools/color_sheet.py --model starry-level --alpha 1 --out docs/color.jpg
"""

from __future__ import annotations

import argparse
from pathlib import Path

import dynamicnet
from dynamicnet.data.images import read_image, tensor_to_pil
from dynamicnet.data.sheet import contact_sheet
from dynamicnet.inference.color import METHODS, preserve_color

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ["gcompris-red-panda.jpg", "plasma-colorful-cups.jpg", "gcompris-eiffel-tower.jpg"]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="starry-level")
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--photos", default=str(ROOT.parent / "shared" / "data" / "photos"))
    p.add_argument("--side", type=int, default=384, help="longer side of each picture")
    p.add_argument("--out", default=str(ROOT / "docs" / "color.jpg"))
    args = p.parse_args(argv)
    renderer = dynamicnet.Renderer(dynamicnet.load(args.model))
    rows = []
    for name in PHOTOS:
        photo = read_image(Path(args.photos) / name, max_side=args.side)
        styled = renderer(photo, alpha=args.alpha).clamp(0, 1)
        rows.append(
            [tensor_to_pil(t) for t in (photo, styled, *(preserve_color(styled, photo, m) for m in METHODS))]
        )
    labels = ["photo", f"{args.model}, alpha {args.alpha:g}", *[f"--preserve-color {m}" for m in METHODS]]
    contact_sheet(rows, labels, cell=256).convert("RGB").save(args.out, quality=88, optimize=True)
    print(args.out)


if __name__ == "__main__":
    main()
