"""Restore images (enlarge or denoise) at given alphas: from faithful to sharp."""

from __future__ import annotations

import argparse
import zlib
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
from ....cli.inputs import Inputs, add_inputs, check_images_given
from ....errors import printable
from ..model import MIN_SIDE, TASK, build
from ..working_point import CRITERIA

SHEET_CELL = 1024  # the sheet shows outputs at 100 % up to this side, shrunk beyond


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("restore", help="enlarge or denoise images at given alphas (0 faithful, 1 sharp)")
    p.set_defaults(run=run)
    add_inputs(p)
    p.add_argument(
        "--model", "-m", required=True, help="restore model: a shipped name or a .safetensors file"
    )
    knob = p.add_mutually_exclusive_group()
    knob.add_argument(
        "--alpha", "-a", nargs="+", metavar="A", help="alphas, one output each (default: 0 0.5 1)"
    )
    knob.add_argument(
        "--auto", action="store_true", help="pick alpha per image without the clean image (see --criterion)"
    )
    p.add_argument(
        "--criterion", choices=sorted(CRITERIA),
        help="how --auto judges a result: consistency (the input minus the result degraded again is "
        "the expected noise; the default for noisy or JPEG inputs), self-similar (the result's finest "
        "detail is as strong as the input's; the default for super-resolution)",
    )  # fmt: skip
    p.add_argument(
        "--degrade", action="store_true",
        help="the images are clean: degrade each as the model was trained (smaller, noisier; the "
        "noise is drawn from the file's name), restore that and print PSNR against the clean image: "
        "a test on your own photos",
    )  # fmt: skip
    p.add_argument("--out", "-o", required=True, help="output folder (created if missing)")
    p.add_argument(
        "--sheet", action="store_true",
        help="also write sheet.png: the input (enlarged), bicubic for super-resolution, each output "
        "(and the clean image with --degrade), at 100 %% up to 1024 px",
    )  # fmt: skip
    p.add_argument("--format", choices=["png", "jpg"], default="png", help="output format")
    add_max_megapixels(p)
    add_device(p)
    p.add_argument(
        "--precision", choices=["auto", "fp32", "bf16"], default="auto",
        help="auto: bf16 where the hardware runs it fast, else fp32",
    )  # fmt: skip


def run(args) -> int:
    import numpy as np
    import torch

    from ....cli.alpha_args import alpha_label
    from ....data.images import (
        ImageReadError,
        ImageTooLargeError,
        atomic_save,
        read_image,
        tensor_to_pil,
        write_image,
    )
    from ....data.sheet import contact_sheet
    from ....devices import resolve_device
    from ....inference import Renderer
    from ..degrade import enlarge
    from ..quality import psnr
    from ..working_point import choose_alpha

    if args.criterion and not args.auto:
        raise CommandError("--criterion chooses how --auto judges a result: give --auto too")
    check_images_given(args)
    device = resolve_device(args.device)
    model = load_for(args.model, device, TASK, build, "a restore model")
    settings = [] if args.auto else alpha_settings(args, model)
    scale, degradation = model.scale, model.degradation
    out_dir = Path(args.out)
    budget = max_pixels(args) // (1 if args.degrade else scale * scale)  # the limit is on the output
    smallest = MIN_SIDE * (scale if args.degrade else 1)

    def read(path: Path) -> torch.Tensor:
        try:
            image = read_image(path, max_pixels=budget)
        except ImageTooLargeError:
            if args.degrade or scale == 1:
                raise
            raise ImageTooLargeError(
                f"{printable(path)}: enlarged {scale}x it would pass --max-megapixels "
                f"{args.max_megapixels:g} (inputs up to {budget / 1e6:g} megapixels)"
            ) from None
        if min(image.shape[-2:]) < smallest:
            h, w = image.shape[-2:]
            raise ImageReadError(
                f"{printable(path)}: a {w}x{h} image is too small to "
                + (f"shrink {scale} times" if args.degrade else "restore")
                + f" (at least {smallest} px a side)"
            )
        return image

    def outputs(path: Path, folder: Path) -> list[Path]:
        labels = ["auto"] if args.auto else [f"alpha={alpha_label(spec)}" for spec, _ in settings]
        return [folder / f"{path.stem}_{label}.{args.format}" for label in labels]

    # --degrade and --sheet report on every image: those runs redo them all
    redo = args.degrade or args.sheet
    inputs = Inputs(
        args, out_dir, "restore", read,
        finished=lambda path, folder: not redo and all(t.exists() for t in outputs(path, folder)),
    )  # fmt: skip
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CommandError(f"{out_dir}: cannot create output folder ({err.strerror})") from err
    renderer = Renderer(model, precision=args.precision, device=device)
    rows = []
    for path, folder, image in inputs:
        clean = None
        if args.degrade:
            h, w = (n - n % scale for n in image.shape[-2:])
            clean = image[:, :h, :w]
            # noise drawn from the file's name: the same photo gets the same noise in any command
            seed = zlib.crc32(path.name.encode())
            image = degradation(clean[None], np.random.default_rng(seed))[0]
            write_image(image, folder / f"{path.stem}_degraded.png")  # lossless: the exact input again
        start = enlarge(image[None], scale)[0].clamp(0, 1)
        row = [
            tensor_to_pil(torch.nn.functional.interpolate(image[None], scale_factor=scale, mode="nearest")[0])
        ]
        if scale > 1:
            row.append(tensor_to_pil(start))
        scores = []
        if args.auto:
            render = lambda x, a: renderer(x.to(device), alpha=a).cpu()  # noqa: E731
            chosen, _, restored = choose_alpha(model, image[None], args.criterion, render=render)
            settings = [("auto", float(chosen[0]))]
            inputs.say(f"{printable(path)}: auto alpha {settings[0][1]:g}")
        for (spec, alpha), target in zip(settings, outputs(path, folder)):
            y = restored[0] if args.auto else renderer(image.to(device), alpha=alpha).cpu()
            y = finite(y, spec)  # the model clamps its output
            write_image(y, target)
            inputs.say(printable(target))
            row.append(tensor_to_pil(y))
            if clean is not None:
                shown = f"auto alpha {alpha:g}" if args.auto else f"alpha {alpha_label(spec)}"
                scores.append(f"{shown}: {psnr(y, clean):.2f} dB")
        if clean is not None:
            reference = f"{'bicubic' if scale > 1 else 'input'} {psnr(start, clean):.2f} dB"
            inputs.say(f"{printable(path)}: PSNR against the clean image: {reference}, {', '.join(scores)}")
            row.append(tensor_to_pil(clean))
        rows.append(row)
    inputs.report(out_dir)
    if args.sheet and rows:
        alphas = ["auto"] if args.auto else [f"alpha={s}" for s, _ in settings]
        labels = ["input", *(["bicubic"] if scale > 1 else []), *alphas]
        cell = min(SHEET_CELL, max(max(im.size) for row in rows for im in row))  # 100 % up to SHEET_CELL
        sheet = contact_sheet(rows, labels + (["clean"] if args.degrade else []), cell=cell)
        atomic_save(sheet, out_dir / "sheet.png")
        print(out_dir / "sheet.png")
    return 0
