"""Compare perceptual backbones: the same short style-transfer training under each VGG16 source.

    python experiments/perceptual_backbones.py --photos ../shared/data/photos \
        --style examples/styles/van-gogh-the-starry-night.jpg --out docs/perceptual-backbones

For every source present (random init is always there, as the floor) it trains the main
network of the same recipe with the same seed, steps and weights, stylizes held-out
photos, and measures each result's content and style loss under every backbone. It also
reports how far the backbones agree on which images have alike Gram statistics. Writes
``sheet.jpg``, ``results.json`` and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch
from PIL import Image

from dynamicnet import load
from dynamicnet.data.images import read_image, tensor_to_pil
from dynamicnet.data.sheet import contact_sheet
from dynamicnet.losses.perceptual import STYLE_LAYERS, StyleLoss, StyleObjective, gram
from dynamicnet.perceptual import SOURCES, is_present, load_perceptual
from dynamicnet.training.trainer import train

HELD_OUT = ["skimage-chelsea-cat.jpg", "gcompris-neuschwanstein-castle.jpg", "lomiri-dandelion-seeds.jpg"]


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--photos", required=True, help="training photos (held-out names are excluded)")
    p.add_argument("--held-out", default="examples/photos", help="folder holding the held-out photos")
    p.add_argument("--style", required=True)
    p.add_argument("--style-size", type=int, default=256)
    p.add_argument("--style-weight", type=float, default=1.5)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--eval-size", type=int, default=256, help="longer side of held-out photos")
    p.add_argument("--sources", nargs="+", help="only these sources (default: every one present)")
    p.add_argument("--out", required=True)
    p.add_argument("--work", default="runs/perceptual-backbones", help="training runs (resumable)")
    return p


def recipe_text(args, photos: Path) -> str:
    style = Path(args.style).resolve()
    return f"""name = "backbone-comparison"
seed = 0
[data]
photos = "{photos}"
crop = {args.crop}
resize = {int(args.crop * 1.25)}
batch = {args.batch}
[train]
precision = "bf16"
checkpoint_every = 100
log_every = 20
[objectives.o]
style = "{style}"
style_size = {args.style_size}
style_weight = {args.style_weight}
[main]
objective = "o"
steps = {args.steps}
lr = 1e-3
[[tune]]
set = "default"
objective = "o"
steps = 0
"""


def main() -> None:
    args = get_args_parser().parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sources = [name for name in SOURCES if is_present(name) and (not args.sources or name in args.sources)]
    held_out = [Path(args.held_out) / name for name in HELD_OUT]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    # The training photos and recipe live in --work, so a rerun resumes the same recipe.
    photos = (work / "photos").resolve()
    photos.mkdir(exist_ok=True)
    for f in Path(args.photos).iterdir():
        if f.name not in HELD_OUT and f.is_file() and not (photos / f.name).exists():
            shutil.copy(f, photos / f.name)
    recipe = work / "recipe.toml"
    recipe.write_text(recipe_text(args, photos))
    models = {}
    for name in sources:
        run = work / name
        done = run / "model.safetensors"
        if not done.exists():
            train(recipe, run, resume=True, perceptual=name, progress=True)
        models[name] = load(done)

    images = [read_image(p, max_side=args.eval_size).unsqueeze(0) for p in held_out]
    outputs = {}
    with torch.inference_mode():
        for name, model in models.items():
            outputs[name] = [model(x)[0].clamp(0, 1) for x in images]

    # pictures: rows = held-out photos, columns = input + one per backbone
    rows = [
        [tensor_to_pil(x[0])] + [tensor_to_pil(outputs[n][i]) for n in sources] for i, x in enumerate(images)
    ]
    contact_sheet(rows, ["input", *sources], cell=256).save(out / "sheet.jpg", quality=90)
    style_img = Image.open(args.style).convert("RGB")
    style_img.thumbnail((256, 256))
    style_img.save(out / "style.jpg", quality=90)

    # numbers: every output judged under every backbone (rows: trained with, columns: judged by)
    objective = StyleObjective.from_dict({"style": args.style, "style_size": args.style_size})
    judges = {n: StyleLoss(load_perceptual(n)[0], objective) for n in sources}
    table = {}
    with torch.no_grad():
        for trained in sources:
            for judge, loss in judges.items():
                terms = [loss(y.unsqueeze(0), x) for y, x in zip(outputs[trained], images)]
                table[f"{trained}|{judge}"] = {
                    "content": sum(t["content"].item() for t in terms) / len(terms),
                    "style": sum(t["style"].item() for t in terms) / len(terms),
                }
        # Do the backbones agree on which images look alike? Gram distances between every pair
        # of a set of images (styles and photos), correlated between backbones. (Gram entries
        # themselves cannot be compared: channel k of one network is not channel k of another.)
        gallery = sorted(Path(args.style).parent.glob("*.jpg")) + held_out
        pictures = [read_image(p, max_side=256).unsqueeze(0) for p in gallery]
        distances = {}
        for n, loss in judges.items():
            grams = [{k: gram(v) for k, v in loss.features(x).items()} for x in pictures]
            distances[n] = torch.tensor([
                sum(torch.nn.functional.mse_loss(grams[i][k], grams[j][k]) for k in STYLE_LAYERS).item()
                for i in range(len(pictures)) for j in range(i + 1, len(pictures))
            ])  # fmt: skip
    agreement = {}
    for a in sources:
        for b in sources:
            if a < b:
                ranks = torch.stack([distances[a].argsort().argsort(), distances[b].argsort().argsort()])
                agreement[f"{a}|{b}"] = torch.corrcoef(ranks.double())[0, 1].item()
    (out / "results.json").write_text(json.dumps({"losses": table, "gram_agreement": agreement}, indent=2))

    print("| trained with \\ judged by | " + " | ".join(sources) + " |")
    print("|---|" + "---|" * len(sources))
    for trained in sources:
        cells = []
        for judge in sources:
            cell = table[f"{trained}|{judge}"]
            cells.append(f"{cell['content']:.3f} / {cell['style']:.2e}")
        print(f"| {trained} | " + " | ".join(cells) + " |")
    print()
    print(f"| backbones | Spearman r of Gram distances ({len(gallery)} images) |")
    print("|---|---|")
    for pair, value in agreement.items():
        print(f"| {pair.replace('|', ' vs ')} | {value:.3f} |")


if __name__ == "__main__":
    main()
