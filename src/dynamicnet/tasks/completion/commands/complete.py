"""Fill a hole in an image at given alphas, or at the alpha the image asks for."""

from __future__ import annotations

import argparse
from pathlib import Path

from ....cli.common import (
    CommandError,
    add_device,
    add_max_megapixels,
    alpha_settings,
    finite,
    load_for,
    max_pixels,
)
from ....errors import printable
from ....inference.working_point import (
    CRITERION_NAMES,
    DEFAULT_CRITERION,
    DETAIL_FLOOR,
    WIDE_HOLE,
    short_of_detail,
)
from ..model import TASK, build


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("complete", help="fill a hole in an image at given alphas, or at its own best alpha")
    p.set_defaults(run=run)
    p.add_argument("image", help="image file")
    hole = p.add_mutually_exclusive_group(required=True)
    hole.add_argument("--box", metavar="X,Y,W,H", help="the hole as a rectangle in pixels (top-left x, y)")
    hole.add_argument(
        "--mask", metavar="PNG",
        help="the hole as an image of the same size: white = missing, black = known; on a mask with "
        "transparency, painted (opaque) = missing, transparent = known",
    )  # fmt: skip
    p.add_argument(
        "--model", "-m", required=True, help="completion model: a shipped name or a .safetensors file"
    )
    knob = p.add_mutually_exclusive_group()
    knob.add_argument(
        "--alpha", "-a", nargs="+", metavar="A", help="alphas, one output each (default: 0 0.5 1)"
    )
    knob.add_argument(
        "--auto",
        action="store_true",
        help="pick alpha for this image, judged without the original (see --criterion)",
    )
    p.add_argument(
        "--criterion", choices=CRITERION_NAMES,
        help=f"how --auto judges a fill (default {DEFAULT_CRITERION}): ring restores known pixels hidden "
        f"around the hole; ring-detail does too, among fills of a hole {WIDE_HOLE} px across or more (at "
        f"the working scale) in texture that keep {DETAIL_FLOOR * 100:g} %% of the detail around it (a "
        "smooth patch that wide shows there); seam continues the colours across its edge; detail matches "
        "the detail around it",
    )  # fmt: skip
    p.add_argument("--out", "-o", required=True, help="output folder (created if missing)")
    p.add_argument(
        "--work-side", type=int, metavar="N",
        help="fill at this shorter side and paste the fill into the full image (default: the model's "
        "training scale; 0: full resolution)",
    )  # fmt: skip
    p.add_argument(
        "--sheet", action="store_true", help="also write sheet.png: the input with its hole, then each output"
    )
    add_max_megapixels(p)
    add_device(p)


def run(args) -> int:
    if args.criterion and not args.auto:
        raise CommandError("--criterion says how --auto picks alpha: give --auto with it")
    import torch

    from ....cli.alpha_args import alpha_label
    from ....data.images import atomic_save, read_image, tensor_to_pil, write_image
    from ....data.masks import parse_box, read_mask
    from ....data.sheet import contact_sheet
    from ....devices import resolve_device
    from ....inference.working_point import DEFAULT_GRID
    from ..model import MIN_SIDE, auto_alpha, complete

    device = resolve_device(args.device)
    model = load_for(args.model, device, TASK, build, "a completion model")
    image = read_image(args.image, max_pixels=max_pixels(args))
    h, w = image.shape[-2:]
    mask = parse_box(args.box, h, w) if args.box else read_mask(args.mask, h, w)
    x, m = image[None].to(device), mask[None].to(device)
    if args.work_side is not None and (args.work_side < 0 or 0 < args.work_side < MIN_SIDE):
        raise CommandError(f"--work-side must be 0 (full resolution) or a side of {MIN_SIDE} pixels or more")
    side = -1 if args.work_side is None else (args.work_side or None)
    criterion = args.criterion or DEFAULT_CRITERION
    if args.auto:
        chosen, gaps = auto_alpha(model, x, m, side, criterion=criterion)
        best = float(chosen[0])
        settings = [("auto", best)]
        listing = ", ".join(f"{a:g}: {g:.4f}" for a, g in zip(DEFAULT_GRID, gaps[0].tolist()))
        short = ""
        if criterion == "ring-detail" and bool(short_of_detail(gaps[0]).any()):
            short = f"; above 1: the fill keeps under {DETAIL_FLOOR * 100:g} % of the detail around the hole"
        print(f"auto alpha {best:g} ({criterion} per alpha, lower is better: {listing}{short})")
    else:
        settings = alpha_settings(args, model)
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CommandError(f"{out_dir}: cannot create output folder ({err.strerror})") from err
    stem = Path(args.image).stem
    shown = torch.where(mask > 0.5, torch.full_like(image, 0.5), image)
    row = [tensor_to_pil(shown)]
    for spec, alpha in settings:
        y = finite(complete(model, x, m, alpha, side)[0].cpu(), spec)
        label = "auto" if args.auto else f"alpha={alpha_label(spec)}"
        target = out_dir / f"{stem}_{label}.png"
        write_image(y, target)
        print(printable(target))
        row.append(tensor_to_pil(y))
    if args.sheet:
        labels = ["input"] + [
            f"auto: alpha={settings[0][1]:g}" if args.auto else f"alpha={s}" for s, _ in settings
        ]
        atomic_save(contact_sheet([row], labels), out_dir / "sheet.png")
        print(out_dir / "sheet.png")
    return 0
