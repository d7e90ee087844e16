"""Start a recipe's block stage from another run's main network, to try new block objectives
without training the main network again.

    python tools/retrain_blocks.py runs/photo-fill-end recipes/studies/photo-fill-end.toml \
        recipes/photo-fill.toml --out runs/photo-fill
    dynamicnet train recipes/photo-fill.toml --resume

The source run (its folder and the recipe it was trained from) must have finished its main
stage, under the same main-stage settings as the new recipe (task, seed, data, model,
perceptual weights, [train], [main] and its objective): then its main network is
bit for bit what the new recipe's main stage would train. The blocks (and the stage's
discriminator) start from the recipe's own initialisation, as in an uninterrupted run, so
``--resume`` continues exactly where a full ``dynamicnet train`` of the recipe would be
after its main stage.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import torch

from dynamicnet.tasks import load_recipe
from dynamicnet.training.checkpoint import load_checkpoint, save_checkpoint
from dynamicnet.training.trainer import build_task

MAIN_STAGE_KEYS = ("task", "seed", "perceptual", "data", "degradation", "model", "main", "train")


def main_stage(recipe) -> dict:
    """What a recipe's main stage depends on (its files as absolute paths)."""
    data = copy.deepcopy(recipe.data)
    for key in ("photos", "faces"):
        if key in data["data"]:
            data["data"][key] = str(recipe.resolve(data["data"][key]).resolve())
    objective = data["objectives"][data["main"]["objective"]] if "objectives" in data else None
    return {k: data.get(k) for k in MAIN_STAGE_KEYS} | {"main objective": objective}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", help="a run folder past its main stage")
    p.add_argument("source_recipe", help="the recipe that run was trained from")
    p.add_argument("recipe", help="the recipe whose blocks to train")
    p.add_argument("--out", required=True, help="the new run folder (its checkpoint.pt is written)")
    args = p.parse_args(argv)
    recipe, theirs = load_recipe(args.recipe), load_recipe(args.source_recipe)
    source = load_checkpoint(Path(args.source) / "checkpoint.pt")
    if source["recipe_hash"] != theirs.hash:
        raise SystemExit(f"{args.source} was not trained from {args.source_recipe} as it is now")
    if source["stage"] < 1 and source["step"] < theirs.data["main"]["steps"]:
        raise SystemExit(f"{args.source}: still in its main stage (step {source['step']})")
    if main_stage(theirs) != main_stage(recipe):
        raise SystemExit(f"{args.source_recipe} and {args.recipe} differ before the blocks: train it whole")
    fresh = build_task(recipe, torch.device("cpu")).model.state_dict()
    missing = [k for k in fresh if ".blocks." not in k and k not in source["model"]]
    if missing:
        raise SystemExit(f"{args.source}: its network lacks {missing[0]}: train the recipe whole")
    # the blocks (the new recipe may place more of them) fresh, everything else the source's
    model = {k: v if ".blocks." in k else source["model"][k] for k, v in fresh.items()}
    state = source | {"recipe_hash": recipe.hash, "stage": 1, "step": 0, "model": model}
    state |= {"optimizer": None, "stage_state": None}
    target = Path(args.out) / "checkpoint.pt"
    if target.exists():
        raise SystemExit(f"{target} exists: remove it first")
    target.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(state, target)
    # the new run's log starts with the source's main stage: its timings belong to this model too
    main_lines = [
        line
        for line in (Path(args.source) / "log.jsonl").read_text().splitlines()
        if json.loads(line).get("stage") == "main"
    ]
    (target.parent / "log.jsonl").write_text("".join(f"{line}\n" for line in main_lines))
    print(f"wrote {target}: the main network of {args.source}, fresh blocks; now run "
          f"'dynamicnet train {args.recipe} --out {args.out} --resume'")  # fmt: skip


if __name__ == "__main__":
    main()
