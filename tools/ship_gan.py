"""Ship a trained Dynamic DCGAN: copy it into the package (fp16) and write its model card.

    python tools/ship_gan.py runs/faces-dark-to-blond --study runs/study-dark-to-blond \
        --description "Cartoon faces, dark hair (alpha 0) to blond hair (alpha 1)"

Writes ``src/dynamicnet/models/NAME.safetensors``, ``docs/models/NAME.md`` and
``docs/models/NAME.png`` (the same latent codes across alpha). With ``--study`` (the output
folder of ``dynamicnet evaluate gan``) the card also carries the measured attribute rates.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from ship_model import ship_parser, ship_run, step_seconds  # a sibling script: tools/ is on sys.path when run

from dynamicnet.data.celeba import read_face_table
from dynamicnet.data.images import tensor_to_pil
from dynamicnet.data.sheet import contact_sheet

ROOT = Path(__file__).resolve().parent.parent
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def get_args_parser() -> argparse.ArgumentParser:
    p = ship_parser(__doc__, "one thread of a 2-core Xeon with AMX, no GPU")
    p.add_argument("--study", help="output folder of 'dynamicnet evaluate gan' for this model")
    p.add_argument("--n", type=int, default=12, help="faces per row of the sheet")
    p.add_argument("--seed", type=int, default=0, help="latent codes of the sheet")
    p.add_argument("--note", action="append", default=[], help="an extra line under 'Data and training'")
    return p


def main(argv=None) -> None:
    args = get_args_parser().parse_args(argv)
    run, meta, recipe, name, shipped, model = ship_run(args)
    with torch.no_grad():
        z = model.latents(args.n, args.seed)
        rows = [[tensor_to_pil(face) for face in model(z, alpha=a).clamp(0, 1)] for a in ALPHAS]
    sheet = contact_sheet(rows, [str(i) for i in range(args.n)], cell=64, pad=4,
                          row_labels=[f"alpha={a:g}" for a in ALPHAS])  # fmt: skip
    docs = ROOT / "docs" / "models"
    docs.mkdir(parents=True, exist_ok=True)
    sheet.save(docs / f"{name}.png", optimize=True)

    d = recipe.data
    table = read_face_table(recipe.resolve(d["data"]["faces"]))
    counts = {
        stage: len(table.select(t["subset"], d["data"].get("split")))
        for stage, t in (("main", d["main"]), ("tune", d["tune"][0]))
    }
    stages = [("main", d["main"]), *((f"tune:{t['set']}", t) for t in d["tune"])]
    total = sum(t["steps"] for _, t in stages)
    train_command = f"dynamicnet train recipes/{meta['recipe_file']} --resume"
    lines = [
        f"# {name}",
        "",
        args.description,
        "",
        f'- Load: `dynamicnet.load("{name}")`; `dynamicnet generate {name} --n 16 --seed 0 '
        f"--alpha 0 0.5 1 --out DIR --sheet`",
        f"- Dynamic DCGAN, latent {meta['latent']}, ngf {meta['ngf']}; one tuning block at "
        + ", ".join(f"{b['at']}" for b in meta["blocks"].values())
        + f"; alpha range {meta['alpha_range']}",
        f"- File: `src/dynamicnet/models/{name}.safetensors` ({shipped.stat().st_size / 2**20:.1f} MB, fp16)",
        "",
        "## Data and training",
        "",
        f"- Faces: `{d['data']['faces']}` (`dynamicnet data avatars --out data/avatars --n 12000 --seed 0`: "
        "cartoon faces drawn with python-avatars, MIT), "
        f"{d['data'].get('split') or 'all'} split, centre crop {d['data']['crop']}, resized to 64",
        f"- Phase 1 (main generator): `{d['main']['subset']}`, {counts['main']} faces",
        f"- Phase 2 (tuning block, fresh discriminator, generator frozen): `{d['tune'][0]['subset']}`, "
        f"{counts['tune']} faces",
        "- Steps: "
        + "; ".join(f"{s} {t['steps']} at lr {t['lr']:g}" for s, t in stages)
        + f"; batch {d['data']['batch']}; Adam betas (0.5, 0.999)",
        "- Discriminator: "
        + "; ".join(
            f"{s} real label {o['real_label']:g}, R1 {o['r1']:g}" for s, o in meta["objectives"].items()
        ),
        f"- Recipe: `recipes/{meta['recipe_file']}`; command: `{train_command}`, "
        f"then `python tools/ship_gan.py runs/{recipe.name} ...`",
        f"- {step_seconds(run):.2f} s per step (median), precision {meta['training']['precision']}, on "
        f"{args.machine}: about {step_seconds(run) * total / 60:.0f} min of training",
        *(f"- {note}" for note in args.note),
        "",
        "## The same faces across alpha",
        "",
        f"![{name} across alpha]({name}.png)",
    ]
    if args.study:
        results = json.loads((Path(args.study) / "results.json").read_text())
        clf = results["classifier"]
        lines += [
            "",
            "## Measured",
            "",
            f"Share of {results['samples']} generated faces that an attribute classifier (held-out accuracy "
            f"{clf['accuracy']:.1%}) calls `{clf['expression']}`; real faces of the two subsets score "
            f"{results['real']['main']['rate']:.3f} and {results['real']['tuned']['rate']:.3f}. "
            "Full study: `docs/results/dcgan.md`.",
            "",
            "| alpha | " + " | ".join(f"{p['knob']:g}" for p in results["points"]["dynamic-net"]) + " |",
            "|---|" + "---|" * len(results["points"]["dynamic-net"]),
            "| share | " + " | ".join(f"{p['rate']:.2f}" for p in results["points"]["dynamic-net"]) + " |",
        ]
    (docs / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"shipped {shipped}\nwrote {docs / (name + '.md')} and {docs / (name + '.png')}")


if __name__ == "__main__":
    main()
