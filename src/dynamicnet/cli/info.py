"""What the shipped models (and the user's) are, and what a model file says about itself."""

from __future__ import annotations

import argparse
import json

from ..errors import printable


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("models", help="list the shipped models and yours (use their names as --model)")
    p.set_defaults(run=run_models)

    p = verbs.add_parser("info", help="show a model's metadata")
    p.set_defaults(run=run_info)
    p.add_argument("model", help="model file (.safetensors) or model name")
    p.add_argument("--json", action="store_true", help="print the raw JSON metadata")


def run_models(args) -> int:
    from ..models import all_models, user_models_dir

    models = all_models()
    width = max([len("NAME"), *(len(m.name) for m in models)])
    print(f"{'NAME':<{width}}  {'TASK':<10}  {'ALPHA':<9}  {'FROM':<7}  DESCRIPTION")
    for m in models:
        alpha = f"[{m.alpha_range[0]:g}, {m.alpha_range[1]:g}]"
        print(f"{m.name:<{width}}  {m.task:<10}  {alpha:<9}  {m.source:<7}  {printable(m.description)}")
    print(f"\nyour models (dynamicnet new-style) are in {printable(user_models_dir())}")
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


def run_info(args) -> int:
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
