"""Ship a trained style model: copy it into the package (fp16) and write its model card.

    python tools/ship_model.py runs/starry-level --description "Starry Night, light to heavy"

Writes ``src/dynamicnet/models/NAME.safetensors``, ``docs/models/NAME.md`` and
``docs/models/NAME.jpg`` (held-out photos across alpha). The card's losses are measured
on the recipe's held-out photos under the perceptual network the model was trained with.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import dynamicnet
from dynamicnet.data.folder import list_images
from dynamicnet.data.images import read_image, tensor_to_pil
from dynamicnet.data.sheet import contact_sheet
from dynamicnet.evaluation import measure_style_objectives
from dynamicnet.evaluation.visible import INNER_BAND, measure_visible
from dynamicnet.inference import Renderer
from dynamicnet.losses.perceptual import StyleLoss, StyleObjective
from dynamicnet.models.shipping import ship
from dynamicnet.perceptual import load_perceptual
from dynamicnet.tasks import load_recipe

ROOT = Path(__file__).resolve().parent.parent


def ship_parser(doc: str, machine: str) -> argparse.ArgumentParser:
    """The arguments every ship tool takes: the run, its shipped name and description, and
    where it was trained."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", help="run folder holding model.safetensors and log.jsonl")
    p.add_argument("--name", help="shipped name (default: the run's recipe name)")
    p.add_argument("--description", required=True, help="one line for 'dynamicnet models'")
    p.add_argument("--machine", default=machine, help="where it was trained")
    return p


def get_args_parser() -> argparse.ArgumentParser:
    p = ship_parser(__doc__, "a 2-core Xeon with AMX, no GPU")
    p.add_argument("--sheet-side", type=int, default=512, help="render side of the held-out photos")
    p.add_argument("--cell", type=int, default=256, help="side of a contact-sheet cell")
    p.add_argument("--loss-side", type=int, default=384, help="photo side for the loss measurements")
    p.add_argument("--knob-side", type=int, default=768, help="photo side for the knob and border figures")
    p.add_argument("--render-context", type=int, help="mirrored context (px) the model renders inside")
    p.add_argument(
        "--looked",
        action="append",
        default=[],
        help="a line for 'Looked at, at 100 %%' (what a user sees); without any, the card's current "
        "section is kept",
    )
    return p


def alpha_grid(variant: str) -> list[float]:
    return [-1.0, -0.5, 0.0, 0.5, 1.0] if variant == "dual" else [0.0, 0.25, 0.5, 0.75, 1.0]


def style_licence(image: Path) -> str:
    """The licence line for a style image from a SOURCES.md table next to it (or one up)."""
    for folder in (image.parent, image.parent.parent):
        sources = folder / "SOURCES.md"
        if sources.is_file():
            for line in sources.read_text(encoding="utf-8").splitlines():
                if f"`{image.name}`" in line:
                    cells = [c.strip() for c in line.strip("|").split("|")]
                    return f"{cells[1]}, {cells[2]} ({cells[3]}); file licence as stated: {cells[-1]}"
    return "unknown (no SOURCES.md entry found)"


def step_seconds(run: Path) -> float:
    """Median logged seconds per optimisation step (robust to periods of a busy machine)."""
    times = [json.loads(line).get("s_per_step") for line in (run / "log.jsonl").read_text().splitlines()]
    return statistics.median(t for t in times if t is not None)


def stage_seconds(run: Path) -> dict[str, float]:
    """Median logged seconds per step of each stage in the run's log: the stages of a pixel
    task differ several times over (a main stage of L1 alone, blocks with a VGG and a
    discriminator), so one median over the run says little about either."""
    times: dict[str, list[float]] = {}
    for line in (run / "log.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry.get("s_per_step") is not None:
            times.setdefault(entry["stage"], []).append(entry["s_per_step"])
    return {stage: statistics.median(t) for stage, t in times.items()}


def tuning_blocks(meta: dict) -> str:
    """The card's words for the tuning blocks: each block's name (what a per-block alpha,
    ``-a block1=0.7``, takes) and where in the network it sits."""
    places = ", ".join(f"{name} at {block['at']}" for name, block in meta["blocks"].items())
    return f"tuning blocks {places} (one alpha each: `-a block1=0.7`)"


def training_lines(run: Path, meta: dict, recipe, tool: str, machine: str) -> list[str]:
    """A pixel task's card lines on its training: objectives, steps, recipe and command, time."""
    stages = [("main", recipe.data["main"]), *((f"tune:{t['set']}", t) for t in recipe.data["tune"])]
    seconds = stage_seconds(run)
    timed = [(s, t) for s, t in stages if s in seconds]
    total = sum(seconds[s] * t["steps"] for s, t in timed) / 60
    untimed = [s for s, _ in stages if s not in seconds]
    return [
        "- Objectives: "
        + "; ".join(
            f"{stage}: " + ", ".join(f"{k} {v:g}" for k, v in o.items() if isinstance(v, float) and v)
            for stage, o in meta["objectives"].items()
        ),
        "- Steps: "
        + "; ".join(f"{s} {t['steps']} at lr {t['lr']:g}" for s, t in stages)
        + f"; batch {recipe.data['data']['batch']}",
        f"- Recipe: `recipes/{meta['recipe_file']}`; command: "
        f"`dynamicnet train recipes/{meta['recipe_file']}`, "
        f"then `python tools/{tool} runs/{recipe.name} ...`",
        "- Seconds per step (median): "
        + ", ".join(f"{s} {seconds[s]:.3f}" for s, _ in timed)
        + f"; precision {meta['training']['precision']}, on {machine}: about {total:.0f} min of training"
        + (f" (not counting {', '.join(untimed)}: not in the run's log)" if untimed else ""),
    ]


def distinct_targets(objectives: dict[str, StyleObjective]) -> dict[str, list[str]]:
    """Objective names grouped by identical style targets (one loss column per group)."""
    groups: dict[tuple, list[str]] = {}
    for name, objective in objectives.items():
        key = tuple((Path(t.image).name, t.size, t.weight) for t in objective.styles)
        groups.setdefault(key, []).append(name)
    return {names[0]: names for names in groups.values()}


LOOKED = "## Looked at, at 100 %"


def looked_section(card: Path, lines: list[str]) -> list[str]:
    """The card's "Looked at" section: from ``lines`` when given, else the one ``card``
    already has (a re-measured card keeps what someone saw), else none."""
    if lines:
        return ["", LOOKED, "", "On the held-out photos at 768 px:", "", *(f"- {x}" for x in lines)]
    old = card.read_text(encoding="utf-8") if card.is_file() else ""
    if LOOKED not in old:
        return []
    section = old.split(LOOKED, 1)[1].split("\n## ", 1)[0]
    return ["", LOOKED, "", *section.strip("\n").split("\n")]


def ship_run(args: argparse.Namespace):
    """Copy the run named by ``args`` (see :func:`ship_parser`) into the package; returns
    (run folder, metadata, recipe, shipped name, shipped file, the shipped model loaded)."""
    run = Path(args.run)
    meta = dynamicnet.read_metadata(run / "model.safetensors")
    recipe = load_recipe(next((ROOT / "recipes").rglob(meta["recipe_file"])))  # studies/ included
    name = args.name or recipe.name
    shipped = ship(run / "model.safetensors", name, args.description, getattr(args, "render_context", None))
    return run, meta, recipe, name, shipped, dynamicnet.load(name)


def main(argv=None) -> None:
    args = get_args_parser().parse_args(argv)
    run, meta, recipe, name, shipped, model = ship_run(args)
    data = recipe.data["data"]
    photos_dir = recipe.resolve(data["photos"])
    held_out = [photos_dir / p for p in data.get("holdout", [])]
    train_files, _ = list_images(photos_dir, exclude=data.get("holdout", []))
    alphas = alpha_grid(meta["variant"])

    renderer = Renderer(model)
    rows = []
    for path in held_out[:4]:
        photo = read_image(path, max_side=args.sheet_side)
        rows.append([tensor_to_pil(photo)] + [tensor_to_pil(renderer(photo, a).clamp(0, 1)) for a in alphas])
    sheet = contact_sheet(rows, ["input", *[f"alpha={a:g}" for a in alphas]], cell=args.cell)
    docs = ROOT / "docs" / "models"
    docs.mkdir(parents=True, exist_ok=True)
    sheet.convert("RGB").save(docs / f"{name}.jpg", quality=85, optimize=True)

    vgg, _ = load_perceptual(meta["perceptual"]["source"])
    objectives = {
        table["name"]: StyleObjective.from_dict(
            recipe.data["objectives"][table["name"]], recipe.base_dir, table["name"]
        )
        for table in meta["objectives"].values()
    }
    groups = distinct_targets(objectives)
    criteria = {n: StyleLoss(vgg, objectives[n]) for n in groups}
    photos = [read_image(p, max_side=args.loss_side) for p in held_out]
    points = measure_style_objectives(model, photos, alphas, criteria)

    knob_photos = [read_image(p, max_side=args.knob_side) for p in held_out]
    visible = measure_visible(renderer, knob_photos, tuple(meta["alpha_range"]))
    (run / "visible.json").write_text(json.dumps(visible.to_dict(), indent=2) + "\n")

    stage_rows = [("main", recipe.data["main"])] + [(f"tune:{t['set']}", t) for t in recipe.data["tune"]]
    lines = [
        f"# {name}",
        "",
        args.description,
        "",
        f'- Load: `dynamicnet.load("{name}")`; '
        f"`dynamicnet stylize IMG --model {name} --alpha 0 0.5 1 --out DIR`",
        f"- Network: {meta['architecture']}; variant {meta['variant']}; "
        f"alpha range {meta['alpha_range']}; blocks "
        + ", ".join(f"{b} at {v['at']}" for b, v in meta["blocks"].items()),
        f"- File: `src/dynamicnet/models/{name}.safetensors` "
        f"({shipped.stat().st_size / 2**20:.1f} MB, fp16 weights)",
        "",
        "## Objectives",
        "",
        "| stage | objective | style image | style size (px) | content weight | style weight "
        "| colour weight |",
        "|---|---|---|---|---|---|---|",
    ]
    for stage, table in meta["objectives"].items():
        for target in table["styles"]:
            lines.append(
                f"| {stage} | {table['name']} | {target['image']} | {target['size']} | "
                f"{table['content_weight']:g} | {table['style_weight']:g} | "
                f"{table.get('color_weight', 0):g} |"
            )
    lines += [
        "",
        "Weights are in the perceptual network's reference units (README, Training).",
        "",
        "## Training",
        "",
        f"- Recipe: `recipes/{meta['recipe_file']}`; command: "
        f"`dynamicnet train recipes/{meta['recipe_file']} --resume`,"
        f" then `python tools/ship_model.py runs/{recipe.name}"
        + (f" --render-context {model.context}" if model.context else "")
        + f' --description "{args.description}"`',
        f"- Photos: `{data['photos']}`, {len(train_files)} for training and {len(held_out)} held out; "
        f"random {data['crop']} px crops after resizing the shorter side to "
        f"{data['resize']} px; batch {data['batch']}"
        + (
            f"; the network saw {data['context']} px of real photo around each crop, which the loss "
            "did not score"
            if data.get("context")
            else ""
        ),
        "- Steps: "
        + "; ".join(f"{s} {t['steps']} at lr {t['lr']:g}" for s, t in stage_rows)
        + (
            f"; every weight started from `{meta['initialised_from']['file']}` (a "
            f"`{meta['initialised_from']['name']}` model, sha256 "
            f"{meta['initialised_from']['sha256'][:16]}..., `[model] init`; see the recipe)"
            if meta.get("initialised_from")
            else ""
        ),
        f"- Precision {meta['training']['precision']}, {meta['training']['processes']} process(es); "
        f"{step_seconds(run):.2f} s per step (median) on {args.machine}: about "
        f"{step_seconds(run) * sum(t['steps'] for _, t in stage_rows) / 60:.0f} min of training",
        f"- Perceptual weights: {meta['perceptual']['source']} "
        f"(sha256 {meta['perceptual']['sha256'][:16]}...)",
        "",
        "## Style image licences",
        "",
    ]
    seen = set()
    for obj in objectives.values():
        for target in obj.styles:
            image = Path(target.image)
            if image.name not in seen:
                seen.add(image.name)
                lines.append(f"- `{image.name}`: {style_licence(image)}")
    lines += [
        "",
        "## Held-out photos across alpha",
        "",
        f"Rendered at {args.sheet_side} px (longer side), shown at {args.cell} px. "
        "These photos were not used in training.",
        "",
        f"![{name} across alpha]({name}.jpg)",
        "",
        "## What you see: the knob and the borders",
        "",
        f"Measured by `tools/ship_model.py` on the {len(knob_photos)} held-out photos at {args.knob_side} px "
        "(longer side), rendered as `dynamicnet stylize` does, in steps of 1/255 (mean absolute "
        "difference of 8-bit-range images):",
        "",
        f"- **Knob span** (the two ends of the knob apart): **{visible.span:.1f}**",
        f"- Low end (alpha {visible.alphas[0]:g}) vs the photo: {visible.low_from_photo:.1f}; "
        f"high end (alpha {visible.alphas[-1]:g}) vs the photo: {visible.high_from_photo:.1f}",
        f"- Monotone over {len(visible.alphas)} equally spaced alphas on every photo: "
        f"{'yes' if visible.monotone else 'no'}; the largest of the "
        f"{len(visible.alphas) - 1} steps is {visible.largest_step_share:.0%} of the whole change",
        f"- **Border figure** (outer 4 px vs a render with 64 px of mirrored context): "
        f"**{visible.border:.1f}** mean, {visible.worst_border:.1f} worst (photo and alpha); for the "
        f"worst pair, the same difference {INNER_BAND[0]}-{INNER_BAND[1]} px inside the image is "
        f"{visible.worst_border_inside:.1f} "
        + (
            "(about as high as at the edge: strokes placed differently with more context, not a frame)"
            if visible.worst_border_inside >= 0.6 * visible.worst_border
            else "(well below the edge's: a frame at the borders)"
        ),
        *(
            [
                f"- The model renders every image inside {model.context} px of mirrored image and crops "
                "them off (metadata `render_context`): without that, the network paints a frame at "
                "its own borders"
            ]
            if model.context
            else []
        ),
        *looked_section(docs / f"{name}.md", args.looked),
        "",
        "## Measured losses",
        "",
        f"Mean over the {len(photos)} held-out photos at {args.loss_side} px (longer side), unweighted, "
        "in reference units; `style vs X` is the style loss against objective X's style target.",
        "",
        "| alpha | content | " + " | ".join(f"style vs {' = '.join(groups[n])}" for n in criteria) + " |",
        "|---|---|" + "---|" * len(criteria),
    ]
    for point in points:
        lines.append(
            f"| {point.alpha:g} | {point.content:.3f} | "
            + " | ".join(f"{point.style[n]:.3f}" for n in criteria)
            + " |"
        )
    (docs / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"shipped {shipped}\nwrote {docs / (name + '.md')} and {docs / (name + '.jpg')}")


if __name__ == "__main__":
    main()
