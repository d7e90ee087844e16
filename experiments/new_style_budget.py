"""What a longer `dynamicnet new-style` buys: one painting at several time budgets.

    python experiments/new_style_budget.py ../shared/data/styles/cassatt-summertime.jpg \
        --minutes 2 5 10 30 --out docs/new-style

For each budget it makes the model as a user would (the shipped models' photos, the level
knob), in its own user folder under runs/new-style-budget (your own models are untouched;
a rerun continues unfinished runs and reuses finished ones), and records the wall time, the
steps and the card's figures (knob span, distance of the light end from the photo, border
figure) in OUT/budget.json. OUT/budget.jpg shows two held-out photos at alpha 0, 0.5 and 1,
one row per budget, rendered at 512 px. docs/new-style.md reports them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("painting")
    p.add_argument("--minutes", type=float, nargs="+", default=[2, 5, 10, 30])
    p.add_argument("--knob", default="level")
    p.add_argument("--out", default="docs/new-style")
    p.add_argument("--work", default="runs/new-style-budget", help="the user folders of the runs")
    args = p.parse_args(argv)

    import dynamicnet
    from dynamicnet.data.images import read_image, tensor_to_pil
    from dynamicnet.data.sheet import contact_sheet
    from dynamicnet.inference import Renderer
    from dynamicnet.tasks.style import new_style as ns

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = out / "budget.json"
    results = json.loads(record.read_text()) if record.is_file() else {}
    photos_dir, holdout = ns.default_photos(args.knob)
    shown = [photos_dir / h for h in holdout[3:5]]  # not the three the card measures on
    rows, labels = [], []
    for minutes in args.minutes:
        name = f"budget-{minutes:g}-min".replace(".", "-")
        os.environ["DYNAMICNET_HOME"] = str(Path(args.work).resolve() / name)
        model_file = ns.user_models_dir() / f"{name}.safetensors"
        if not model_file.is_file():
            began = time.perf_counter()
            ns.new_style([args.painting], name, knob=args.knob, minutes=minutes)
            results[f"{minutes:g}"] = {"wall_s": time.perf_counter() - began}
        meta = dynamicnet.read_metadata(model_file)
        entry = results.setdefault(f"{minutes:g}", {})
        entry.update(
            minutes=minutes,
            steps=meta["training"]["steps"],
            figures=meta["new_style"]["figures"]["default"],
        )
        record.write_text(json.dumps(results, indent=2) + "\n")
        renderer = Renderer(dynamicnet.load(model_file))
        row = []
        for path in shown:
            photo = read_image(path, max_side=512)
            row += [tensor_to_pil(renderer(photo, a).clamp(0, 1)) for a in (0.0, 0.5, 1.0)]
        rows.append(row)
        labels.append(f"{minutes:g} min")
        f = entry["figures"]
        print(
            f"{minutes:g} min: {entry.get('wall_s', float('nan')) / 60:.1f} min wall, "
            f"steps {entry['steps']}, "
            f"span {f['span']:.1f}, light end vs photo {f['low_from_photo']:.1f}, "
            f"border {f['border']:.1f} / {f['worst_border']:.1f}, monotone {f['monotone']}"
        )
    heads = [f"{path.stem[:18]} a={a:g}" for path in shown for a in (0, 0.5, 1)]
    sheet = contact_sheet(rows, heads, cell=224, row_labels=labels)
    sheet.convert("RGB").save(out / "budget.jpg", quality=85, optimize=True)
    print(f"wrote {record} and {out / 'budget.jpg'}")


if __name__ == "__main__":
    main()
