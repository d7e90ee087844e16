"""Restore study: the Dynamic-Net's perception-distortion knob against DNI, pixel blending
and fixed networks, on held-out photos.

Each held-out crop is degraded as the recipe says (from a seeded generator, the same for
every method) and restored by:

- the Dynamic-Net over alpha: one main network trained for L1 (O_0), blocks for O_1;
- DNI (Wang et al., CVPR 2019): the main network's weights interpolated with those of a copy
  fine-tuned on O_1 with the blocks' budget (their steps and learning rate);
- pixel blending of those two networks' outputs;
- fixed networks trained for O_m from scratch with the main stage's budget;
- bicubic enlargement (super-resolution) or the input itself (denoising).

Every output is scored by PSNR, SSIM and a perceptual distance; per metric the study
reports the best single alpha, the per-image oracle and each blind choice of ``--auto``
(:mod:`.working_point`), and plots the perception-distortion plane. Networks are trained
once into ``OUT/cache`` (resumable); scores are cached.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from tqdm import tqdm

from ...data.images import ImageReadError, read_image, tensor_to_pil
from ...data.sheet import contact_sheet
from ...evaluation.runs import (
    EvaluationError,
    RunCache,
    digest,
    file_digest,
    fine_tune_key,
    held_out_files,
    knob_grid,
    machine,
    read_json,
    scoring_seconds,
    shrink_recipe,
    tensor_digest,
    write_json,
)
from ...extras import pyplot, require
from ...io.atomic import atomic_write
from ...losses.pixel import TERMS, PerceptualDistance, PixelObjective
from ...perceptual import load_perceptual
from ...training.recipe import Recipe
from .. import load_model
from .degrade import Degradation, enlarge
from .quality import psnr
from .working_point import CRITERIA, default_criterion

plt = pyplot("the restore study")
_metrics = require("skimage.metrics", "studies", "the restore study")

METRICS = {"psnr": "higher", "ssim": "higher", "perceptual": "lower"}
METHODS = ("dynamic-net", "dni", "blend")
LABELS = {
    "dynamic-net": "Dynamic-Net (alpha)",
    "dni": "DNI (weight mix)",
    "blend": "pixel blend",
    "fixed": "fixed network for O_m",
}
QUICK = {"crop": 16, "batch": 2, "steps": 3, "knob_points": 3, "images": 3, "size": 32}


@dataclass
class RestoreStudy:
    """One restore evaluation of a recipe; :meth:`run` does (or resumes) it all."""

    recipe: Recipe
    out: Path
    photos: Path
    model: str | None = None  # an already trained model of this recipe (path or shipped name)
    m_values: Sequence[float] | None = None  # fixed networks; default 0 and 1
    knob_points: int | None = None  # default 11
    images: int | None = None  # default 40
    size: int | None = None  # side of the clean crops; default 192
    perceptual: str = "auto"
    quick: bool = False
    progress: bool = True
    log: Callable[[str], None] = print
    seconds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.recipe.task != "restore":
            raise EvaluationError(
                f"{self.recipe.path}: this study measures restore recipes, not {self.recipe.task!r}"
            )
        if self.quick:
            if self.model is not None:
                raise EvaluationError("--quick trains its own tiny model from the recipe: leave out --model")
            self.recipe = shrink_recipe(self.recipe, QUICK["steps"], crop=QUICK["crop"], batch=QUICK["batch"])
            self.recipe.data["perceptual"] = self.perceptual
        defaults = QUICK if self.quick else {"knob_points": 11, "images": 40, "size": 192}
        self.knob_points = self.knob_points or defaults["knob_points"]
        self.images = self.images or defaults["images"]
        self.size = self.size or defaults["size"]
        m = sorted({float(v) for v in (self.m_values or (0.0, 1.0))})
        if m[0] != 0.0 or any(not 0 <= v <= 1 for v in m):
            raise EvaluationError(f"m values must lie in [0, 1] and include 0, got {self.m_values}")
        self.m_values = m
        knob_grid(self.knob_points)
        d = self.recipe.data
        self.degradation = Degradation.from_dict(d["degradation"])
        if self.size % self.degradation.scale or self.size < 8 * self.degradation.scale:
            raise EvaluationError(
                f"--size must be a multiple of the scale ({self.degradation.scale}) and at least "
                f"{8 * self.degradation.scale}"
            )
        self.first = PixelObjective.from_dict(d["objectives"][d["main"]["objective"]], "O_0")
        tune = d["tune"][0]
        self.second = PixelObjective.from_dict(d["objectives"][tune["objective"]], "O_1")
        self.runs = RunCache(self.out / "cache", self.progress, self.log, self.seconds)

    # --- networks -------------------------------------------------------------------------
    def _derived(self, name: str, objective: PixelObjective, main: dict) -> Recipe:
        """A recipe of the same data, network and seed whose main stage trains ``objective``."""
        d = copy.deepcopy(self.recipe.data)
        d["name"] = name
        d["data"]["photos"] = str(self.recipe.resolve(d["data"]["photos"]).resolve())
        if d["perceptual"] not in ("auto", "random") and self.recipe.resolve(d["perceptual"]).is_file():
            d["perceptual"] = str(self.recipe.resolve(d["perceptual"]).resolve())
        d["objectives"] = {"target": {k: getattr(objective, k) for k in TERMS}}
        d["main"] = main | {"objective": "target"}
        d["tune"] = [{"set": "default", "objective": "target", "steps": 0, "lr": 1e-4}]
        return self.recipe.derive(d)

    def fixed_net(self, m: float, dynamic: Path) -> Path:
        if m == 0.0:  # the main network: same objective, data, steps and seed
            return dynamic
        main = {k: v for k, v in self.recipe.data["main"].items() if k != "init"}
        recipe = self._derived(f"fixed-m{m:g}", self.first.mix(self.second, m, f"O_{m:g}"), main)
        return self.runs.train(f"fixed-m{m:g}", recipe, recipe.hash)

    def dni_net(self, dynamic: Path) -> Path:
        """The main network fine-tuned (all its weights) on O_1 with the blocks' steps and rate."""
        tune = self.recipe.data["tune"][0]
        main = {"steps": tune["steps"], "lr": tune["lr"], "init": str(dynamic.resolve())}
        recipe = self._derived("dni-tuned", self.second, main)
        return self.runs.train("dni", recipe, fine_tune_key(recipe, dynamic))

    # --- evaluation images ----------------------------------------------------------------
    def evaluation_set(self) -> tuple[list[str], Tensor, Tensor]:
        """Names, clean crops (N, 3, S, S) and their degraded versions."""
        files = held_out_files(self.recipe, self.photos, self.log)
        per_photo = max(1, -(-self.images // len(files)))
        names, crops = [], []
        for f in files:
            try:
                image = read_image(f)
            except ImageReadError:
                continue
            h, w = image.shape[-2:]
            if min(h, w) < self.size:
                continue
            for k in range(per_photo):  # evenly spread along the diagonal
                t = k / (per_photo - 1) if per_photo > 1 else 0.5
                top, left = round((h - self.size) * t), round((w - self.size) * t)
                crops.append(image[:, top : top + self.size, left : left + self.size])
                names.append(f"{f.name}#{k}")
        if not crops:
            raise EvaluationError(
                f"{self.photos}: no held-out photo is at least {self.size} px on both sides"
            )
        names, clean = names[: self.images], torch.stack(crops[: self.images])
        degraded = torch.cat(
            [
                self.degradation(c[None], np.random.default_rng([self.recipe.data["seed"], 11, i]))
                for i, c in enumerate(clean)
            ]
        )
        return names, clean, degraded

    # --- scoring --------------------------------------------------------------------------
    def run(self) -> dict:
        names, clean, degraded = self.evaluation_set()
        self.out.mkdir(parents=True, exist_ok=True)
        dynamic = self.dynamic_net()
        dni = self.dni_net(dynamic)
        fixed = {m: self.fixed_net(m, dynamic) for m in self.m_values}
        vgg, record = load_perceptual(self.perceptual, seed=self.recipe.data["seed"])
        distance = PerceptualDistance(vgg.eval())
        outputs = Outputs(dynamic, dni, fixed, degraded)
        knobs = knob_grid(self.knob_points)
        scores = self._score(outputs, knobs, clean, degraded, distance, record)
        classical = "bicubic" if self.degradation.scale > 1 else "input"
        reference = enlarge(degraded, self.degradation.scale).clamp(0, 1)
        baseline = _scores(reference, clean, distance)
        self.seconds["score"] = scoring_seconds(scores)
        summary = summarize(scores, knobs, default_criterion(self.degradation))
        results = {
            "recipe": self.recipe.name,
            "degradation": self.degradation.to_dict(),
            "degradation_words": self.degradation.describe(),
            "images": len(names),
            "size": self.size,
            "knobs": knobs,
            "m": list(self.m_values),
            "baseline": {"name": classical, **{k: float(np.mean(v)) for k, v in baseline.items()}},
            "curves": {
                method: {metric: [float(np.mean(p[metric])) for p in scores[method]] for metric in METRICS}
                for method in METHODS
            },
            "fixed": {
                f"{p['knob']:g}": {metric: float(np.mean(p[metric])) for metric in METRICS}
                for p in scores["fixed"]
            },
            "table": summary["table"],
            "per_image": {"names": names, **summary["per_image"]},
            "quick": self.quick,
            "perceptual": record,
            "objectives": {"O_0": self.first.to_dict(), "O_1": self.second.to_dict()},
            "networks": {
                "dynamic-net": str(dynamic),
                "dni": str(dni),
                "fixed": {f"{m:g}": str(p) for m, p in fixed.items()},
            },
            "seconds": self.seconds,
            "machine": machine(),
        }
        write_json(self.out / "results.json", results, indent=2)
        write_report(results, self.out, self._pictures(outputs, clean, degraded, reference, summary))
        return results

    def dynamic_net(self) -> Path:
        return self.runs.trained_from(self.recipe, self.model)

    def _score(self, outputs: Outputs, knobs, clean: Tensor, degraded: Tensor, distance, record) -> dict:
        """Per-image metrics for every method and knob (and the blind criteria for the Dynamic-Net)."""
        cache_path = self.out / "scores.json"
        cache = read_json(cache_path) or {}
        context = digest(record.get("sha256"), tensor_digest(clean, degraded))
        jobs = [(method, k) for method in METHODS for k in knobs] + [("fixed", m) for m in self.m_values]
        out: dict[str, list[dict]] = {method: [] for method in (*METHODS, "fixed")}
        for method, knob in tqdm(jobs, desc="scoring", disable=not self.progress):
            key = digest(context, method, knob, outputs.fingerprint(method))
            if key not in cache:
                begun = time.perf_counter()
                restored = outputs.at(method, knob)
                cache[key] = _scores(restored, clean, distance)
                if method == "dynamic-net":
                    for name, gap in CRITERIA.items():
                        cache[key][name] = gap(restored, degraded, self.degradation).tolist()
                cache[key]["seconds"] = time.perf_counter() - begun  # a rerun reports it, not 0
                write_json(cache_path, cache)
            out[method].append({"knob": knob, **cache[key]})
        return out

    def _pictures(self, outputs: Outputs, clean, degraded, reference, summary, rows: int = 5) -> Image.Image:
        """The centre of a few crops, zoomed: input, classical answer (bicubic; none for denoising,
        where it is the input), alpha 0, auto, alpha 1, DNI at 1, clean."""
        picked = np.linspace(0, len(clean) - 1, min(rows, len(clean))).round().astype(int)
        auto = summary["per_image"]["auto_alpha"]
        side = min(96, self.size)
        grid, labels = [], []
        for i in picked:
            outs = [outputs.at("dynamic-net", a, i) for a in (0.0, auto[i], 1.0)] + [
                outputs.at("dni", 1.0, i)
            ]
            near = torch.nn.functional.interpolate(
                degraded[i : i + 1], scale_factor=self.degradation.scale, mode="nearest"
            )
            classical = [reference[i]] if self.degradation.scale > 1 else []
            row = [near[0], *classical, *(o[0] for o in outs), clean[i]]
            c = (self.size - side) // 2  # the centre of each crop, at 2x zoom
            grid.append(
                [
                    tensor_to_pil(t[:, c : c + side, c : c + side]).resize(
                        (2 * side, 2 * side), Image.NEAREST
                    )
                    for t in row
                ]
            )
            labels.append(f"auto {auto[i]:g}")
        classical = ["bicubic"] if self.degradation.scale > 1 else []
        columns = ["input", *classical, "alpha 0", "auto alpha", "alpha 1", "DNI at 1", "clean"]
        return contact_sheet(grid, columns, cell=2 * side, row_labels=labels)


class Outputs:
    """Restored images of every method at any knob position, for the same degraded inputs."""

    def __init__(self, dynamic: Path, dni: Path, fixed: dict[float, Path], degraded: Tensor) -> None:
        self.model = load_model(dynamic).eval()
        self.files = {"dynamic-net": dynamic, "dni": dni, **{f"fixed-{m:g}": p for m, p in fixed.items()}}
        self.fixed = {m: self.model if p == dynamic else load_model(p).eval() for m, p in fixed.items()}
        self._mixed = copy.deepcopy(self.model)
        self._ends = (self.model.net.base.state_dict(), load_model(dni).net.base.state_dict())
        self.degraded = degraded
        self._blend_ends: dict[int | None, tuple[Tensor, Tensor]] = {}  # the two networks' outputs

    def fingerprint(self, method: str) -> str:
        if method in ("dni", "blend"):
            return digest(file_digest(self.files["dynamic-net"]), file_digest(self.files["dni"]))
        if method == "fixed":
            return digest(*(file_digest(p) for p in self.files.values()))
        return file_digest(self.files["dynamic-net"])

    @torch.no_grad()
    def at(self, method: str, knob: float, index: int | None = None) -> Tensor:
        x = self.degraded if index is None else self.degraded[index : index + 1]
        if method == "dynamic-net":
            return _batched(lambda b: self.model(b, alpha=knob), x)
        if method == "dni":
            start, end = self._ends
            self._mixed.net.base.load_state_dict(
                {k: torch.lerp(v.float(), end[k].float(), knob) for k, v in start.items()}
            )
            return _batched(lambda b: self._mixed(b, alpha=0.0), x)
        if method == "blend":  # the two networks run once; every knob mixes their outputs
            if index not in self._blend_ends:
                self._blend_ends[index] = (self.at("dni", 0.0, index), self.at("dni", 1.0, index))
            return torch.lerp(*self._blend_ends[index], knob)
        if method == "fixed":
            return _batched(lambda b: self.fixed[knob](b, alpha=0.0), x)
        raise ValueError(f"unknown method {method!r}")


def _batched(run, x: Tensor, batch: int = 8) -> Tensor:
    return torch.cat([run(x[i : i + batch]) for i in range(0, len(x), batch)])


def _scores(restored: Tensor, clean: Tensor, distance) -> dict[str, list[float]]:
    with torch.no_grad():
        perceptual = _batched(lambda b: distance(b[:, :3], b[:, 3:]), torch.cat([restored, clean], dim=1))
    return {
        "psnr": [psnr(a, b) for a, b in zip(restored, clean)],
        "ssim": [ssim(a, b) for a, b in zip(restored, clean)],
        "perceptual": perceptual.tolist(),
    }


def ssim(a: Tensor, b: Tensor) -> float:
    return float(
        _metrics.structural_similarity(b.numpy(), a.clamp(0, 1).numpy(), channel_axis=0, data_range=1.0)
    )


def summarize(scores: dict, knobs: list[float], default: str) -> dict:
    """Per metric: alpha 0 and 1, the best single alpha, the per-image oracle and each blind
    choice; ``auto_alpha`` per image is the ``default`` criterion's (what ``--auto`` uses)."""
    points = scores["dynamic-net"]
    picks = {name: np.array([p[name] for p in points]).argmin(axis=0) for name in CRITERIA}
    table = {}
    for metric, better in METRICS.items():
        values = np.array([p[metric] for p in points])  # (knobs, images)
        columns = np.arange(values.shape[1])
        sign = 1.0 if better == "higher" else -1.0
        means = values.mean(axis=1)
        best = int(np.argmax(sign * means))
        oracle = np.argmax(sign * values, axis=0)
        oracle_value = float(values[oracle, columns].mean())
        row = {
            "better": better,
            "alpha_0": float(means[0]),
            "alpha_1": float(means[-1]),
            "best_global": {"alpha": knobs[best], "value": float(means[best])},
            "oracle": {"value": oracle_value},
        }
        for name, index in picks.items():
            value = float(values[index, columns].mean())
            gain = oracle_value - float(means[best])
            row[f"auto_{name}"] = {
                "value": value,
                "share": (value - float(means[best])) / gain if gain else None,
                "agrees": float(np.mean(index == oracle)),
            }
        table[metric] = row
    per_image = {f"auto_{name}_alpha": [knobs[i] for i in index] for name, index in picks.items()}
    return {"table": table, "per_image": per_image | {"auto_alpha": per_image[f"auto_{default}_alpha"]}}


def plot_plane(results: dict, path: Path) -> Path:
    """The perception-distortion plane: PSNR (right is better) against the perceptual distance
    (down is better), one curve per method along its knob, fixed networks and the classical answer."""
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for method, style in zip(METHODS, ("o-", "s--", "^:")):
        curve = results["curves"][method]
        ax.plot(curve["psnr"], curve["perceptual"], style, ms=4, label=LABELS[method])
        ax.annotate("1", (curve["psnr"][-1], curve["perceptual"][-1]), fontsize=7)
    for m, point in results["fixed"].items():
        ax.plot(point["psnr"], point["perceptual"], "k*", ms=10)
        ax.annotate(f"  O_{m}", (point["psnr"], point["perceptual"]), fontsize=8)
    base = results["baseline"]
    ax.plot(base["psnr"], base["perceptual"], "rX", ms=9, label=base["name"])
    _frame_the_curves(ax, results)
    ax.set_xlabel("PSNR, dB (distortion: right is better)")
    ax.set_ylabel("perceptual distance (down is better)")
    ax.set_title(
        f"{results['recipe']}: {results['images']} held-out crops, {results['degradation_words']}", fontsize=9
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def _frame_the_curves(ax, results: dict) -> None:
    """Zoom to the methods' curves: a noisy input 14 dB away would squeeze them into a corner.
    A classical answer outside the frame is named in a corner instead."""
    points = [(c["psnr"], c["perceptual"]) for c in results["curves"].values()]
    points += [([p["psnr"]], [p["perceptual"]]) for p in results["fixed"].values()]
    xs = [x for px, _ in points for x in px]
    ys = [y for _, py in points for y in py]
    base = results["baseline"]
    margin_x, margin_y = 0.1 * (max(xs) - min(xs)) or 0.1, 0.1 * (max(ys) - min(ys)) or 0.01
    lo_x, hi_x, lo_y, hi_y = min(xs) - margin_x, max(xs) + margin_x, min(ys) - margin_y, max(ys) + margin_y
    if (
        lo_x - 3 * margin_x <= base["psnr"] <= hi_x + 3 * margin_x
        and lo_y - 3 * margin_y <= base["perceptual"] <= hi_y + 3 * margin_y
    ):
        return  # near enough to show
    ax.set_xlim(lo_x, hi_x)
    ax.set_ylim(lo_y, hi_y)
    ax.text(
        0.02, 0.98, f"{base['name']}: {base['psnr']:.2f} dB, {base['perceptual']:.4f} (off the chart)",
        transform=ax.transAxes, va="top", fontsize=8, color="red",
    )  # fmt: skip


def markdown_table(results: dict) -> str:
    """Each method along its knob (0, 0.5, 1) and the per-image choices of the Dynamic-Net's alpha."""
    knobs = results["knobs"]
    half = knobs.index(0.5) if 0.5 in knobs else len(knobs) // 2
    rows = ["| method | knob | PSNR | SSIM | perceptual |", "|---|---|---|---|---|"]
    base = results["baseline"]
    rows.append(
        f"| {base['name']} | - | {base['psnr']:.2f} | {base['ssim']:.4f} | {base['perceptual']:.4f} |"
    )
    for method in METHODS:
        curve = results["curves"][method]
        for i in (0, half, len(knobs) - 1):
            rows.append(
                f"| {LABELS[method]} | {knobs[i]:g} | {curve['psnr'][i]:.2f} | {curve['ssim'][i]:.4f} "
                f"| {curve['perceptual'][i]:.4f} |"
            )
    for m, point in results["fixed"].items():
        scores = f"{point['psnr']:.2f} | {point['ssim']:.4f} | {point['perceptual']:.4f}"
        rows.append(f"| fixed network, O_{m} | - | {scores} |")
    return "\n".join(rows)


def choice_table(results: dict) -> str:
    names = [k[len("auto_") :] for k in results["table"]["psnr"] if k.startswith("auto_")]
    rows = [
        "| metric | best single alpha | per-image oracle | "
        + " | ".join(f"auto: {n} (share of the oracle's gain; agrees)" for n in names)
        + " |",
        "|---" * (3 + len(names)) + "|",
    ]
    for metric, row in results["table"].items():
        cells = []
        for n in names:
            choice = row[f"auto_{n}"]
            share = "-" if choice["share"] is None else f"{choice['share']:.0%}"
            cells.append(f"{choice['value']:.4g} ({share}; {choice['agrees']:.0%})")
        rows.append(
            f"| {metric} ({row['better']} is better) | {row['best_global']['value']:.4g} "
            f"(alpha {row['best_global']['alpha']:g}) | {row['oracle']['value']:.4g} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(rows)


def write_report(results: dict, out: Path, pictures: Image.Image) -> Path:
    plot_plane(results, out / "plane.png")
    atomic_write(out / "pictures.jpg", lambda p: pictures.save(p, format="JPEG", quality=92))
    seconds = ", ".join(f"{k} {v / 60:.1f} min" for k, v in results["seconds"].items())
    inputs = "Input (enlarged), bicubic" if results["degradation"]["scale"] > 1 else "Input"
    text = f"""# Restore study: {results["recipe"]}

{results["images"]} held-out crops of {results["size"]} px, degraded: {results["degradation_words"]}.
Perceptual distance on VGG16 features ({results["perceptual"].get("source", "?")} weights); PSNR and
SSIM over the whole image. DNI interpolates the main network's weights with a copy fine-tuned on
O_1 with the blocks' budget; the pixel blend mixes those two networks' outputs.

{markdown_table(results)}

![the perception-distortion plane](plane.png)

Choosing alpha per image: the oracle uses the clean image, the auto choices do not.

{choice_table(results)}

{inputs}, alpha 0, the auto alpha, alpha 1, DNI at 1 and the clean image, centre of each crop
at 2x zoom:

![pictures](pictures.jpg)

Machine: {results["machine"]}.
Time: {seconds}.
"""
    atomic_write(out / "report.md", lambda p: Path(p).write_text(text))
    return out / "report.md"
