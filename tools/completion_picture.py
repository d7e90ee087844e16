"""Redraw a shipped completion model's picture across alpha (docs/models/NAME.jpg, the one
in its card and the README) without shipping it again: after a change to the classical
fills the model starts from, say. It is the picture ``tools/ship_completion.py`` draws.

    python tools/completion_picture.py photo-fill
"""

from __future__ import annotations

import argparse

from ship_completion import ROOT, draw_across_alpha  # a sibling script: tools/ is on sys.path when run

import dynamicnet
from dynamicnet.tasks import load_recipe


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a shipped completion model's name")
    args = p.parse_args(argv)
    model = dynamicnet.load(args.model).eval()
    recipe = load_recipe(next((ROOT / "recipes").rglob(model.config["recipe_file"])))  # as ship_run finds it
    print(draw_across_alpha(model, recipe, args.model))


if __name__ == "__main__":
    main()
