"""Stylize images or folders of them at one or more alphas."""

from __future__ import annotations

import argparse
from pathlib import Path

from ....cli.common import (
    CommandError,
    add_device,
    add_max_megapixels,
    add_no_progress,
    add_preserve_color,
    alpha_settings,
    finite,
    load_for,
    max_pixels,
)
from ....errors import printable
from ....extras import require
from ..model import TASK, build


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("stylize", help="stylize images or folders at one or more alphas")
    p.set_defaults(run=run)
    p.add_argument("images", nargs="*", help="image files or folders (before --alpha)")
    p.add_argument(
        "--recursive", "-r", action="store_true",
        help="folders: also their subfolders (the output mirrors the tree)",
    )  # fmt: skip
    add_no_progress(p, "folders: no progress bar")
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
    from tqdm import tqdm

    from ....cli.alpha_args import alpha_label
    from ....data.images import ImageReadError, atomic_save, read_image, tensor_to_pil, write_image
    from ....data.sheet import contact_sheet
    from ....devices import resolve_device
    from ....inference import Renderer
    from ....inference.color import preserve_color

    if args.preserve_color == "histogram":
        require("skimage", "studies", "--preserve-color histogram")
    if not args.images:
        hint = " (put the images before --alpha)" if any(Path(a).is_file() for a in args.alpha or []) else ""
        raise CommandError(f"no input images given{hint}")
    device = resolve_device(args.device)
    model = load_for(args.model, device, TASK, build, "a style model")
    settings = alpha_settings(args, model)
    renderer = Renderer(model, precision=args.precision, device=device)
    if args.max_side is not None and args.max_side < 1:
        raise CommandError("--max-side must be positive")
    out_dir = Path(args.out)
    jobs = _stylize_jobs(args, out_dir)  # (input file, output folder, from a folder?)
    pixel_budget = max_pixels(args)
    # Files named one by one are all read first: a bad one stops the run before any output.
    named = {path: read_image(path, args.max_side, pixel_budget) for path, _, walked in jobs if not walked}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CommandError(f"{out_dir}: cannot create output folder ({err.strerror})") from err

    def targets(path: Path, folder: Path) -> list[Path]:
        color = f"_color={args.preserve_color}" if args.preserve_color else ""
        return [
            folder / f"{path.stem}_alpha={alpha_label(spec)}{color}.{args.format}" for spec, _ in settings
        ]

    rows, skipped, done = [], [], 0
    folders = any(walked for _, _, walked in jobs)
    bar = tqdm(jobs, desc="stylize", unit="image", disable=args.no_progress or not folders)
    for path, folder, walked in bar:
        outputs = targets(path, folder)
        if walked and all(t.exists() for t in outputs) and not args.sheet:
            done += 1  # finished by an earlier run: resume where it stopped
            continue
        try:
            image = named[path] if not walked else read_image(path, args.max_side, pixel_budget)
        except ImageReadError as err:  # inside a folder: skip and count
            skipped.append(str(err))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        row = []
        for (spec, alpha), target in zip(settings, outputs):  # the renderer reuses the alpha-free layers
            y = finite(renderer(image, alpha=alpha), spec)
            if args.preserve_color:
                y = preserve_color(y, image, args.preserve_color)
            write_image(y, target)
            tqdm.write(printable(target)) if folders else print(printable(target))
            if args.sheet:
                row.append(tensor_to_pil(y))
        if args.sheet:
            rows.append([tensor_to_pil(image), *row])
    if done:
        print(f"{done} image(s) already stylized in {out_dir}: skipped")
    if skipped:
        print(
            f"skipped {len(skipped)} unreadable file(s): "
            + "; ".join(map(printable, skipped[:3]))
            + (" ..." if len(skipped) > 3 else "")
        )
    if args.sheet and rows:
        sheet = contact_sheet(rows, ["input", *[f"alpha={s}" for s, _ in settings]])
        atomic_save(sheet, out_dir / "sheet.png")
        print(out_dir / "sheet.png")
    return 0


def _stylize_jobs(args, out_dir: Path) -> list[tuple[Path, Path, bool]]:
    """Each input image with its output folder; folders are walked (the output mirrors them)."""
    from ....data.folder import PHOTO_SUFFIXES
    from ....data.images import ImageReadError

    jobs = []
    out = out_dir.resolve()
    for name in args.images:
        path = Path(name)
        if not path.is_dir():
            jobs.append((path, out_dir, False))
            continue
        if path.resolve() == out:
            raise CommandError(
                f"--out {printable(out_dir)} is the input folder: a rerun would stylize the outputs; "
                "choose another folder"
            )
        pattern = path.rglob("*") if args.recursive else path.glob("*")
        found = sorted(
            f for f in pattern
            if f.is_file() and f.suffix.lower() in PHOTO_SUFFIXES and not f.resolve().is_relative_to(out)
        )  # fmt: skip
        if not found:
            raise CommandError(
                f"{path}: no image files{'' if args.recursive else ' (add --recursive for subfolders)'}"
            )
        jobs += [(f, out_dir / f.parent.relative_to(path), True) for f in found]
    names = [(folder, f.stem) for f, folder, _ in jobs]
    if len(set(names)) != len(names):
        raise ImageReadError("two inputs share a file name; stylize them into different --out folders")
    return jobs
