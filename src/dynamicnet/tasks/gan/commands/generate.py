"""Faces from a Dynamic DCGAN at one or more alphas."""

from __future__ import annotations

import argparse
from pathlib import Path

from ....cli.common import CommandError, add_device, alpha_settings, finite, load_for, output_file
from ....errors import printable
from ..model import TASK, build


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("generate", help="faces from a Dynamic DCGAN at one or more alphas")
    p.set_defaults(run=run)
    p.add_argument("model", nargs="?", help="GAN model: a shipped name or a .safetensors file")
    p.add_argument(
        "--model", "-m", dest="model_option", metavar="MODEL", help="the same, as the other commands take it"
    )
    p.add_argument("--n", type=int, default=16, help="number of faces (default 16)")
    p.add_argument("--seed", type=int, default=0, help="latent codes: face i of a seed is always the same")
    p.add_argument("--alpha", "-a", nargs="+", metavar="A", help="alpha settings (default: 0 0.5 1)")
    p.add_argument("--out", "-o", required=True, help="output folder: one subfolder of PNGs per alpha")
    p.add_argument("--sheet", action="store_true", help="also a sheet: one row per alpha")
    p.add_argument(
        "--animate", metavar="GIF", help="also a GIF morphing from the first alpha to the last and back"
    )
    add_device(p)


def run(args) -> int:
    import torch

    from ....cli.alpha_args import alpha_label
    from ....data.images import atomic_save, tensor_to_pil, write_image
    from ....data.sheet import contact_sheet, tile
    from ....devices import resolve_device

    if args.seed < 0:
        raise CommandError(f"--seed must be 0 or more, got {args.seed}")
    if not 1 <= args.n <= 1024:
        raise CommandError("--n must be between 1 and 1024")
    if args.animate and Path(args.animate).suffix.lower() != ".gif":
        raise CommandError(f"--animate {printable(args.animate)}: give a .gif file name")
    if args.animate:
        output_file(Path(args.animate), "--animate")
    if (args.model is None) == (args.model_option is None):
        raise CommandError("give the GAN model once: dynamicnet generate MODEL, or --model MODEL")
    device = resolve_device(args.device)
    model = load_for(args.model or args.model_option, device, TASK, build, "a GAN")
    settings = alpha_settings(args, model)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    z = model.latents(args.n, args.seed).to(device)
    rows = []
    with torch.no_grad():
        for spec, alpha in settings:
            faces = finite(model(z, alpha=alpha), spec).clamp(0, 1).cpu()
            folder = out_dir / f"alpha={alpha_label(spec)}"
            folder.mkdir(exist_ok=True)
            for i, face in enumerate(faces):
                write_image(face, folder / f"seed{args.seed}_{i:04d}.png")
            print(f"{folder} ({args.n} faces)")
            rows.append([tensor_to_pil(face) for face in faces])
        if args.sheet:
            sheet = contact_sheet(rows, [str(i) for i in range(args.n)], cell=64, pad=4,
                                  row_labels=[f"alpha={s}" for s, _ in settings])  # fmt: skip
            atomic_save(sheet, out_dir / "sheet.png")
            print(out_dir / "sheet.png")
        if args.animate:
            first, last = settings[0][1], settings[-1][1]
            if not all(isinstance(a, float) for a in (first, last)):
                raise CommandError("--animate morphs between plain alpha values (the first and last --alpha)")
            frames = []
            for t in (i / 23 for i in range(24)):
                faces = model(z, alpha=first + t * (last - first)).clamp(0, 1).cpu()
                frames.append(tensor_to_pil(tile(faces)))
            frames += frames[-2:0:-1]  # and back
            atomic_save(frames[0], args.animate, save_all=True, append_images=frames[1:], duration=80, loop=0)
            print(args.animate)
    return 0
