"""The visibility check: a hole of a quarter of the image side, in the most textured
held-out crops, at the auto alpha of each criterion. Writes a contact sheet to look at at
100 % zoom and prints each row's auto alphas, and the alpha ``ring-detail`` would pick under
each detail floor of ``--floors`` (how DETAIL_FLOOR was chosen: the lowest with no soft patch).

    python experiments/completion_quarter_holes.py photo-fill --out runs/quarter-holes.png
    python experiments/completion_quarter_holes.py photo-fill --floor 0.7 --out runs/at-70.png

docs/results/completion/photo-fill-quarter-holes.jpg is this sheet (``--out`` ending in .jpg).

The crops are the completion study's (recipes/photo-fill.toml's held-out photos, 128 px);
"textured" is the mean luminance gradient in the ring around a centred hole.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import dynamicnet
from dynamicnet.data.images import tensor_to_pil
from dynamicnet.data.masks import centre_square
from dynamicnet.data.sheet import contact_sheet
from dynamicnet.inference.working_point import (
    DEFAULT_GRID,
    DETAIL_FLOOR,
    choose_alpha,
    detail_in,
    ring_detail_scorer,
    rings,
)
from dynamicnet.tasks import load_recipe
from dynamicnet.tasks.completion.baselines import classical_fills
from dynamicnet.tasks.completion.study import CompletionStudy

CRITERIA_SHOWN = ("ring", "ring-detail")
FLOORS = (0.6, 0.7, 0.8, 0.9, 1.0)


@torch.no_grad()
def ring_detail_pick(net, x, mask, floor: float) -> float:
    """The grid alpha ``ring-detail`` picks for one image with the detail floor at ``floor``."""
    score = ring_detail_scorer(net, x, mask, floor)
    return DEFAULT_GRID[int(torch.cat([score(a) for a in DEFAULT_GRID]).argmin())]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a completion model: shipped name or .safetensors file")
    p.add_argument("--recipe", default="recipes/photo-fill.toml", help="whose held-out crops to use")
    p.add_argument("--photos", default="../shared/data/photos")
    p.add_argument("--rows", type=int, default=10)
    p.add_argument("--out", default="runs/quarter-holes.png")
    p.add_argument(
        "--floor", type=float, default=DETAIL_FLOOR, help="ring-detail's detail floor on the sheet"
    )
    p.add_argument("--floors", type=float, nargs="*", default=FLOORS, help="floors whose picks are printed")
    args = p.parse_args(argv)
    study = CompletionStudy(
        recipe=load_recipe(args.recipe), out=Path(args.out).parent, photos=Path(args.photos),
        progress=False, log=lambda _: None,
    )  # fmt: skip
    names, x = study.evaluation_set()
    side = x.shape[-1]
    mask = centre_square(side, side, 0.25)[None].expand(len(x), 1, side, side)
    texture = detail_in(x, rings(mask))
    net = dynamicnet.load(args.model).eval()
    fills = classical_fills(0)
    grid, labels, picked = [], [], []
    for i in texture.argsort(descending=True)[: args.rows].tolist():
        xi, mi = x[i : i + 1], mask[i : i + 1]
        picks = {"ring": float(choose_alpha(net, xi, mi, criterion="ring")[0][0])}
        picks["ring-detail"] = ring_detail_pick(net, xi, mi, args.floor)
        with torch.no_grad():
            outs = [net(xi, alpha=a, mask=mi)[0] for a in (0.0, *picks.values(), 1.0)]
        shown = torch.where(mi[0] > 0.5, torch.full_like(xi[0], 0.5), xi[0])
        classical = [fills[n](xi, mi)[0] for n in ("PatchMatch",) if n in fills]
        grid.append([tensor_to_pil(t) for t in (shown, *classical, *outs, xi[0])])
        labels.append(f"{names[i]}: " + ", ".join(f"{c} {a:g}" for c, a in picks.items()))
        picked.append(", ".join(f"{c} {a:g}" for c, a in picks.items()))
        at_floors = ", ".join(f"{f:g}: {ring_detail_pick(net, xi, mi, f):g}" for f in args.floors)
        print(f"{labels[-1]} (ring-detail by floor: {at_floors})")
    columns = [
        "input",
        "PatchMatch",
        "alpha 0",
        *(f"auto ({c})" for c in CRITERIA_SHOWN),
        "alpha 1",
    ]
    sheet = contact_sheet(grid, [*columns, "truth"], cell=side, row_labels=picked)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet.convert("RGB").save(args.out, **({"quality": 70} if args.out.endswith(".jpg") else {}))
    print(args.out)


if __name__ == "__main__":
    main()
