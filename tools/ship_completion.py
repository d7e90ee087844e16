"""Ship a trained completion model: copy it into the package (fp16) and write its model card.

    python tools/ship_completion.py runs/photo-fill --study runs/completion/photo-fill \
        --description "Fill a hole in a photo; alpha from smooth (0) to textured (1)"

Writes ``src/dynamicnet/models/NAME.safetensors``, ``docs/models/NAME.md`` and
``docs/models/NAME.jpg`` (held-out photos at the training scale, a hole each, across alpha;
``tools/completion_picture.py NAME`` redraws it alone).
With ``--study`` (the output of ``dynamicnet evaluate completion``) the card carries its table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from ship_model import (
    ship_parser,
    ship_run,
    training_lines,
    tuning_blocks,
)  # a sibling script: tools/ is on sys.path when run

from dynamicnet.data.images import read_image, tensor_to_pil
from dynamicnet.data.masks import centre_square
from dynamicnet.data.sheet import contact_sheet
from dynamicnet.io.model_file import save_model
from dynamicnet.tasks.completion.model import PREFILLS
from dynamicnet.tasks.completion.study import HOLE_WORDS, baseline_table, markdown_table

ROOT = Path(__file__).resolve().parent.parent
ALPHAS = (0.0, 0.5, 1.0)
EXPONENTS = [round(1 + 0.1 * i, 1) for i in range(21)]  # knob calibrations tried: 1 to 3


def get_args_parser() -> argparse.ArgumentParser:
    p = ship_parser(__doc__, "one NVIDIA H200")
    p.add_argument("--study", help="output folder of 'dynamicnet evaluate completion' for this model")
    p.add_argument("--limit", action="append", default=[], help="a limit seen at 100 %% zoom (repeatable)")
    p.add_argument(
        "--calibrate-knob", action="store_true",
        help="measure the knob exponent that makes equal alpha steps change the fill about equally "
        "(on the held-out photos, a centred hole of a quarter of the side) and store it in the file",
    )  # fmt: skip
    p.add_argument(
        "--knob-exponent", type=float, help="with --calibrate-knob: this exponent (measured before)"
    )
    p.add_argument(
        "--calibration-skip", action="append", default=["skimage-astronaut-eileen-collins.jpg"],
        help="a held-out photo left out of the calibration (default: the shipped-model check's photo)",
    )  # fmt: skip
    return p


def training_scale(recipe, file: str) -> torch.Tensor:
    """A held-out photo at the scale the model was trained at."""
    d = recipe.data["data"]
    photo = read_image(recipe.resolve(d["photos"]) / file)
    h, w = photo.shape[-2:]
    scale = (d["resize"] or d["crop"]) / min(h, w)
    return F.interpolate(photo[None], size=(round(h * scale), round(w * scale)), mode="area")[0]


@torch.no_grad()
def draw_across_alpha(model, recipe, name: str) -> Path:
    """docs/models/NAME.jpg: the first five held-out photos at the training scale, a centred
    hole each, at :data:`ALPHAS`."""
    d = recipe.data["data"]
    rows = []
    for file in d.get("holdout", [])[:5]:
        photo = training_scale(recipe, file)
        mask = centre_square(*photo.shape[-2:], fraction=d["hole"] / 2)
        outs = [model(photo[None], alpha=a, mask=mask)[0] for a in ALPHAS]
        shown = torch.where(mask > 0.5, torch.full_like(photo, 0.5), photo)
        rows.append([tensor_to_pil(t) for t in (shown, *outs, photo)])
    labels = ["input", *[f"alpha={a:g}" for a in ALPHAS], "original"]
    path = ROOT / "docs" / "models" / f"{name}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(rows, labels, cell=192).convert("RGB").save(path, quality=88, optimize=True)
    return path


@torch.no_grad()
def knob_steps(model, photos: list[torch.Tensor], exponents: list[float]) -> dict[float, float]:
    """For each exponent, how uneven the knob is: the largest over the smallest of the eight
    steps (alpha 0, 1/8, ..., 1), each the mean change of a centred hole over ``photos``."""
    steps = {e: torch.zeros(8) for e in exponents}
    for photo in photos:  # photo by photo: PatchMatch runs once for each (the model keeps its fills)
        mask = centre_square(*photo.shape[-2:], fraction=0.25)
        hole = mask.expand_as(photo) > 0.5
        for e in exponents:
            fills = [model(photo[None], alpha=(i / 8) ** e, mask=mask)[0][hole] for i in range(9)]
            steps[e] += torch.stack([(b - a).abs().mean() for a, b in zip(fills, fills[1:])])
    return {e: float(s.max() / s.min()) for e, s in steps.items()}


def main(argv=None) -> None:
    args = get_args_parser().parse_args(argv)
    run, meta, recipe, name, shipped, model = ship_run(args)
    d = recipe.data["data"]
    calibration = ""
    if args.calibrate_knob:
        kept = [f for f in d.get("holdout", []) if f not in args.calibration_skip]
        photos = [training_scale(recipe, f) for f in kept]
        ratios = knob_steps(model, photos, [1.0, args.knob_exponent] if args.knob_exponent else EXPONENTS)
        exponent = min(ratios, key=ratios.get) if args.knob_exponent is None else args.knob_exponent
        model.config["knob_exponent"] = exponent
        save_model(model, shipped, dtype=torch.float16)
        calibration = (
            f"- Knob: calibrated on {len(kept)} held-out photos: alpha a runs the tuning blocks at "
            f"a^{exponent:g}, the exponent whose eight knob steps change the hole most evenly (largest "
            f"step {ratios[exponent]:.2f}x the smallest; {ratios[1.0]:.2f}x uncalibrated)"
        )
    picture = draw_across_alpha(model, recipe, name)
    docs = picture.parent

    prefill = f"; it starts from the classical {meta['prefill']} fill" if meta.get("prefill") else ""
    lines = [
        f"# {name}",
        "",
        args.description,
        "",
        f'- Load: `dynamicnet.load("{name}")`; `dynamicnet complete PHOTO --box X,Y,W,H --model {name} '
        "--alpha 0 0.5 1 --out DIR` (or `--auto`)",
        f"- Completion network (encoder, dilated middle, decoder), width {meta['width']}; "
        f"{tuning_blocks(meta)}; alpha range {meta['alpha_range']}",
        *([calibration] if calibration else []),
        f"- File: `src/dynamicnet/models/{name}.safetensors` ({shipped.stat().st_size / 2**20:.1f} MB, fp16)",
        "",
        "## Data and training",
        "",
        f"- Photos: `{d['photos']}` minus {len(d.get('holdout', []))} held out; random {d['crop']} px crops "
        f"of the photos scaled to {d['resize'] or d['crop']} px (shorter side)",
        f"- Holes: {d['mask']} masks (boxes up to {d['hole']:g} of the side)" + prefill,
        *training_lines(run, meta, recipe, "ship_completion.py", args.machine),
        "",
        "## Limits",
        "",
        f"- It fills holes at the training scale ({d['resize'] or d['crop']} px on the shorter side): "
        + (
            "on a larger photo `dynamicnet complete` and the demo let it weigh and correct its classical "
            "fills there and apply that, enlarged, to the same fills made at full size, so a large hole "
            "gets full-size texture; its colour correction and choices are no sharper than that scale."
            if len(PREFILLS.get(meta.get("prefill"), ())) > 1
            else "`dynamicnet complete` and the demo shrink a larger photo to that, fill, and paste the "
            "enlarged fill back, so large holes in large photos come out soft."
        ),
        *(f"- {limit}" for limit in args.limit),
        "",
        "## Held-out photos, a centred hole, across alpha",
        "",
        f"![{name} across alpha]({name}.jpg)",
    ]
    if args.study:
        results = json.loads((Path(args.study) / "results.json").read_text())
        lines += ["", "## Measured", "", f"On {results['images']} held-out crops at {results['size']} px, "
                  "each kind of hole on its own (full study: `docs/results/completion.md`):"]  # fmt: skip
        for kind, row in results["kinds"].items():
            lines += [
                "",
                f"### {HOLE_WORDS[kind].capitalize()}",
                "",
                baseline_table(row),
                "",
                markdown_table(row),
            ]
    (docs / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"shipped {shipped}\nwrote {docs / (name + '.md')} and {picture}")


if __name__ == "__main__":
    main()
