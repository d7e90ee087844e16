"""Stylize images or folders of them at one or more alphas."""

from __future__ import annotations

import argparse
from pathlib import Path

from ....cli.common import (
    CommandError,
    add_device,
    add_max_megapixels,
    add_preserve_color,
    alpha_settings,
    finite,
    load_for,
    max_pixels,
)
from ....cli.inputs import Inputs, add_inputs, check_images_given
from ....errors import printable
from ....extras import require
from ..model import TASK, build


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("stylize", help="stylize images or folders at one or more alphas")
    p.set_defaults(run=run)
    add_inputs(p)
    p.add_argument("--model", "-m", required=True, help="model file (.safetensors) or shipped model name")
    p.add_argument(
        "--alpha",
        "-a",
        nargs="+",
        default=None,
        metavar="A",
        help="alphas, one output each: 0.5 | -0.6 (dual) | 0.2,0.7,1 (per block) | "
        "block1=0.7 | starry=0.3,wave=0.7 (block sets). Default: 0 0.5 1",
    )
    p.add_argument(
        "--block-alpha",
        nargs="+",
        default=[],
        metavar="SPEC",
        help="extra per-block settings, one output each: 0.2,0.7,1 or block0=0.2,block2=1",
    )
    p.add_argument("--out", "-o", required=True, help="output folder (created if missing)")
    p.add_argument("--sheet", action="store_true", help="also write sheet.png: images x alphas")
    p.add_argument("--max-side", type=int, help="shrink inputs so the longer side is at most this")
    add_max_megapixels(p)
    add_preserve_color(p, "photo")
    p.add_argument("--format", choices=["png", "jpg"], default="png", help="output format")
    add_device(p)
    p.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        default="auto",
        help="auto: bf16 where the hardware runs it fast (within 1/255 of fp32 on average), else fp32",
    )


def run(args) -> int:
    from ....cli.alpha_args import alpha_label
    from ....data.images import atomic_save, read_image, tensor_to_pil, write_image
    from ....data.sheet import contact_sheet
    from ....devices import resolve_device
    from ....inference import Renderer
    from ....inference.color import preserve_color

    if args.preserve_color == "histogram":
        require("skimage", "studies", "--preserve-color histogram")
    check_images_given(args)
    device = resolve_device(args.device)
    model = load_for(args.model, device, TASK, build, "a style model")
    settings = alpha_settings(args, model)
    renderer = Renderer(model, precision=args.precision, device=device)
    if args.max_side is not None and args.max_side < 1:
        raise CommandError("--max-side must be positive")
    out_dir = Path(args.out)
    pixel_budget = max_pixels(args)

    def targets(path: Path, folder: Path) -> list[Path]:
        color = f"_color={args.preserve_color}" if args.preserve_color else ""
        return [
            folder / f"{path.stem}_alpha={alpha_label(spec)}{color}.{args.format}" for spec, _ in settings
        ]

    inputs = Inputs(
        args, out_dir, "stylize", lambda path: read_image(path, args.max_side, pixel_budget),
        finished=lambda path, folder: not args.sheet and all(t.exists() for t in targets(path, folder)),
    )  # fmt: skip
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CommandError(f"{out_dir}: cannot create output folder ({err.strerror})") from err
    rows = []
    for path, folder, image in inputs:
        row = []
        # the renderer reuses the alpha-free layers from one alpha to the next
        for (spec, alpha), target in zip(settings, targets(path, folder)):
            y = finite(renderer(image, alpha=alpha), spec)
            if args.preserve_color:
                y = preserve_color(y, image, args.preserve_color)
            write_image(y, target)
            inputs.say(printable(target))
            if args.sheet:
                row.append(tensor_to_pil(y))
        if args.sheet:
            rows.append([tensor_to_pil(image), *row])
    inputs.report(out_dir)
    if args.sheet and rows:
        sheet = contact_sheet(rows, ["input", *[f"alpha={s}" for s, _ in settings]])
        atomic_save(sheet, out_dir / "sheet.png")
        print(out_dir / "sheet.png")
    return 0
