"""Score style networks of one recipe on its held-out photos for one objective O_m.

    python experiments/score_objective.py recipes/johnson/starry-level.toml --m 0.25 \
        --photos ../shared/data/photos A.safetensors B.safetensors

Prints each network's mean O_m and its content and style terms, with the objective-space
study's photos, size and perceptual network. It is how docs/results/objective-space.md
compares the same fixed-network recipe trained on two machines.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dynamicnet.evaluation.objectives import Scorer
from dynamicnet.losses.perceptual import StyleLoss
from dynamicnet.perceptual import load_perceptual
from dynamicnet.tasks import load_recipe
from dynamicnet.tasks.style.knobs import fixed_output
from dynamicnet.tasks.style.study import ObjectiveSpaceStudy, mix_objectives


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("recipe")
    p.add_argument("models", nargs="+", help="model files to score")
    p.add_argument("--m", type=float, required=True, help="the objective O_m = (1 - m) O_0 + m O_1")
    p.add_argument("--photos", required=True, help="photos; the recipe's training photos are left out")
    args = p.parse_args(argv)
    recipe = load_recipe(args.recipe)
    study = ObjectiveSpaceStudy(recipe, Path(args.photos), Path("unused"), log=lambda _: None)
    photos = study.held_out_photos()
    vgg, _ = load_perceptual(study._perceptual_spec(), seed=recipe.data["seed"])
    scorer = Scorer({"m": StyleLoss(vgg, mix_objectives(study.first, study.second, args.m))})
    for model in args.models:
        scores = [scorer(fixed_output(model, x[None]), x[None])["m"] for _, x in photos]
        mean = {k: sum(s[k] for s in scores) / len(scores) for k in scores[0]}
        terms = f"content {mean['content']:.3f}, style {mean['style']:.3f}"
        print(f"{model}: O_{args.m:g} {mean['loss']:.3f} ({terms})")


if __name__ == "__main__":
    main()
