"""The knob span and border figure of style models on your photos (the numbers in the model cards).

    python tools/visible_figures.py starry-level starry-to-wave --photos ../shared/data/photos \\
        --only gcompris-eiffel-tower.jpg lomiri-forest-stream.jpg --side 768

For each model: the two ends of the knob apart, each end's distance from the photo,
whether every one of 8 equal alpha steps moves the picture further from the low end,
and the border figure (outer 4 px vs a render with 64 px of mirrored context: the mean,
the worst photo and alpha, and for that worst pair the same difference 32-64 px inside,
high for strokes that shift with the context, low for a frame), all in steps of 1/255
and averaged over the photos (see dynamicnet.evaluation.visible).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import dynamicnet
from dynamicnet.data.folder import list_images
from dynamicnet.data.images import read_image
from dynamicnet.evaluation.visible import measure_visible


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="shipped model names or model files")
    p.add_argument("--photos", required=True, help="a folder of photos (searched recursively)")
    p.add_argument("--only", nargs="*", default=[], help="use only these file names from the folder")
    p.add_argument("--side", type=int, default=768, help="longer side the photos are rendered at")
    p.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    p.add_argument("--render-context", type=int, help="mirrored context (px) instead of the model's own")
    p.add_argument("--json", help="also write the figures here")
    return p


def main(argv: list[str] | None = None) -> None:
    args = get_args_parser().parse_args(argv)
    files, _ = list_images(Path(args.photos))
    if args.only:
        files = [f for f in files if f.name in set(args.only)]
    if not files:
        raise SystemExit(f"no photos found in {args.photos}")
    photos = [read_image(f, max_side=args.side) for f in files]
    results = {}
    print(f"{len(photos)} photos at {args.side} px; figures in 1/255")
    header = (
        ("span", 6), ("low-photo", 10), ("high-photo", 11), ("monotone", 9), ("border", 7), ("worst", 6),
        ("inside", 7),
    )  # fmt: skip
    print(f"{'model':<28} " + " ".join(f"{label:>{width}}" for label, width in header))
    for name in args.models:
        model = dynamicnet.load(name)
        if args.render_context is not None:
            model.config["render_context"] = args.render_context
        renderer = dynamicnet.Renderer(model, precision=args.precision)
        figures = measure_visible(renderer, photos, model.alpha_range)
        results[name] = figures.to_dict()
        print(
            f"{name:<28} {figures.span:6.1f} {figures.low_from_photo:10.1f} {figures.high_from_photo:11.1f} "
            f"{'yes' if figures.monotone else 'no':>9} {figures.border:7.1f} {figures.worst_border:6.1f} "
            f"{figures.worst_border_inside:7.1f}",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
