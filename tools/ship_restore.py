"""Ship a trained restore model: copy it into the package (fp16) and write its model card.

    python tools/ship_restore.py runs/sr-x4 --study runs/restore/sr-x4 \
        --description "Enlarge a photo 4x; alpha from faithful (0) to sharp (1)"

Writes ``src/dynamicnet/models/NAME.safetensors``, ``docs/models/NAME.md`` and
``docs/models/NAME.jpg`` (held-out photos degraded as trained, then restored across alpha,
at 100 % zoom). With ``--study`` (the output of ``dynamicnet evaluate restore``) the card
carries its tables, and the margin of alpha 0 over the classical answer.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from ship_model import (
    ship_parser,
    ship_run,
    training_lines,
    tuning_blocks,
)  # a sibling script: tools/ is on sys.path when run

from dynamicnet.data.images import read_image, tensor_to_pil
from dynamicnet.data.sheet import contact_sheet
from dynamicnet.evaluation.runs import machine
from dynamicnet.tasks.restore.degrade import enlarge
from dynamicnet.tasks.restore.study import choice_table, markdown_table

ROOT = Path(__file__).resolve().parent.parent
ALPHAS = (0.0, 0.5, 1.0)
SIDE = 192  # the clean crop shown, in pixels


def get_args_parser() -> argparse.ArgumentParser:
    p = ship_parser(__doc__, machine())  # where the run was trained; usually where it is shipped
    p.add_argument("--study", help="output folder of 'dynamicnet evaluate restore' for this model")
    p.add_argument("--limit", action="append", default=[], help="a limit seen at 100 %% zoom (repeatable)")
    return p


def main(argv=None) -> None:
    args = get_args_parser().parse_args(argv)
    run, meta, recipe, name, shipped, model = ship_run(args)
    d, scale = recipe.data["data"], model.scale
    classical = "bicubic" if scale > 1 else "input"
    rows = []
    for i, file in enumerate(d.get("holdout", [])[:4]):
        photo = read_image(recipe.resolve(d["photos"]) / file)
        h, w = photo.shape[-2:]
        top, left = (h - SIDE) // 2, (w - SIDE) // 2
        clean = photo[None, :, top : top + SIDE, left : left + SIDE]
        degraded = model.degradation(clean, np.random.default_rng([0, i]))
        with torch.no_grad():
            outs = [model(degraded, alpha=a)[0] for a in ALPHAS]
        shown = F.interpolate(degraded, scale_factor=scale, mode="nearest")[0]
        reference = enlarge(degraded, scale)[0].clamp(0, 1)
        extra = [reference] if scale > 1 else []  # for denoising the classical answer is the input
        rows.append([tensor_to_pil(t) for t in (shown, *extra, *outs, clean[0])])
    shown_columns = ["input", classical] if scale > 1 else ["input"]
    labels = [*shown_columns, *[f"alpha={a:g}" for a in ALPHAS], "clean"]
    docs = ROOT / "docs" / "models"
    contact_sheet(rows, labels, cell=SIDE).convert("RGB").save(
        docs / f"{name}.jpg", quality=92, optimize=True
    )

    lines = [
        f"# {name}",
        "",
        args.description,
        "",
        f'- Load: `dynamicnet.load("{name}")`; `dynamicnet restore PHOTO --model {name} --alpha 0 0.5 1 '
        "--out DIR` (or `--auto`; `--degrade` tries it on a clean photo and prints PSNR)",
        f"- Undoes: {model.degradation.describe()}",
        f"- Residual network ({meta['depth']} residual blocks, width {meta['width']}) adding to "
        + ("the bicubic enlargement" if scale > 1 else "the input")
        + f"; {tuning_blocks(meta)}; alpha range {meta['alpha_range']}",
        f"- File: `src/dynamicnet/models/{name}.safetensors` ({shipped.stat().st_size / 2**20:.1f} MB, fp16)",
        "",
        "## Data and training",
        "",
        f"- Photos: `{d['photos']}` (licences in its SOURCES.md) minus {len(d.get('holdout', []))} held "
        f"out, scaled to a {d['resize'] or d['crop']} px shorter side; random {d['crop']} px crops, "
        "degraded as drawn",
        f"- Held out (the pictures and the study): {', '.join(f'`{f}`' for f in d.get('holdout', []))}",
        f"- Perceptual term and distance: VGG16 features, `{recipe.data['perceptual']}` weights "
        "(`dynamicnet weights list` gives their source and licence)",
        *training_lines(run, meta, recipe, "ship_restore.py", args.machine),
        "",
        "## Limits",
        "",
        f"- It undoes the degradation it was trained on ({model.degradation.describe()}); other blur, "
        "noise or compression is left in, or sharpened.",
        *(f"- {limit}" for limit in args.limit),
        "",
        f"## Held-out photos at 100 % zoom: {', '.join(shown_columns)}, alpha 0, 0.5 and 1, clean",
        "",
        f"![{name} across alpha]({name}.jpg)",
    ]
    if args.study:
        results = json.loads((Path(args.study) / "results.json").read_text())
        base, ours = results["baseline"], results["curves"]["dynamic-net"]
        lines += [
            "",
            "## Measured",
            "",
            f"On {results['images']} held-out crops of {results['size']} px (full study: "
            "`docs/results/restore.md`): alpha 0 scores a PSNR of "
            f"{ours['psnr'][0]:.2f} dB against {classical}'s {base['psnr']:.2f} dB "
            f"(**{ours['psnr'][0] - base['psnr']:+.2f} dB**); alpha 1 moves the perceptual distance from "
            f"{ours['perceptual'][0]:.4f} to {ours['perceptual'][-1]:.4f} (lower is better) at "
            f"{ours['psnr'][-1]:.2f} dB.",
            "",
            markdown_table(results),
            "",
            choice_table(results),
        ]
    (docs / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"shipped {shipped}\nwrote {docs / (name + '.md')} and {docs / (name + '.jpg')}")


if __name__ == "__main__":
    main()
