"""Completion study: how much does choosing alpha per image gain, and can it be chosen blind?

On held-out images with known content, the Dynamic-Net's completions over an alpha grid
are scored by PSNR, SSIM and a perceptual distance. For each metric the study compares:

- the best single alpha for all images (what a user gets without per-image choice);
- the per-image oracle (best alpha for each image, which needs the ground truth);
- the alpha chosen without ground truth by each ``--auto`` criterion (seam, detail, ring);
- fixed networks trained for intermediate objectives O_m, with the main stage's budget;
- the classical fills a user would pick instead (:mod:`.baselines`), with their time.

Each kind of hole (boxes, brush strokes) is scored and reported on its own, on the same crops.

Fixed networks are trained once into ``OUT/cache`` (resumable) and scores are cached in
``OUT/scores.json``, keyed by the images, holes, perceptual weights, model file and the code
of the fills (:func:`fill_code`): a rerun scores only what changed.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from tqdm import tqdm

from ...data.celeba import AlignedFaces, read_face_table
from ...data.images import ImageReadError, read_image, resize_shorter, tensor_to_pil
from ...data.masks import MASK_KINDS, draw_mask
from ...data.sheet import contact_sheet
from ...evaluation.runs import (
    EvaluationError,
    RunCache,
    digest,
    file_digest,
    held_out_files,
    knob_grid,
    machine,
    read_json,
    scoring_seconds,
    shrink_recipe,
    tensor_digest,
)
from ...extras import pyplot, require
from ...io.atomic import atomic_write
from ...losses.pixel import TERMS, PerceptualDistance, PixelObjective
from ...perceptual import load_perceptual
from ...training.recipe import Recipe
from .. import load_model
from . import baselines, classical
from . import model as completion_model
from .baselines import classical_fills

plt = pyplot("the completion study")
_metrics = require("skimage.metrics", "studies", "the completion study")

METRICS = {"psnr": "higher", "ssim": "higher", "perceptual": "lower"}


def fill_code() -> str:
    """A hash of the code that makes every fill the study scores (the classical fills and the
    network's use of them): cached scores are keyed by it, so a changed fill is scored again
    instead of reported from a stale cache."""
    return digest(*(file_digest(Path(m.__file__)) for m in (classical, baselines, completion_model)))


def score_context(record: dict, x: Tensor, masks: Tensor) -> str:
    """The part of every cached score's key that the images, holes, perceptual weights and
    fill code make (offline experiments read the cache with it)."""
    return digest(record.get("sha256"), tensor_digest(x, masks), fill_code())


DEFAULT_M = (0.0, 0.5, 1.0)
DEFAULT_MASKS = ("box", "free")
QUICK = {"crop": 32, "batch": 2, "steps": 3, "knob_points": 3, "images": 4, "m": (0.0, 1.0)}


@dataclass
class CompletionStudy:
    """One completion evaluation of a recipe; :meth:`run` does (or resumes) it all."""

    recipe: Recipe
    out: Path
    photos: Path | None = None  # held-out photos (photo recipes); face recipes use the test split
    model: str | None = None  # an already trained model of this recipe (path or shipped name)
    m_values: Sequence[float] | None = None
    knob_points: int | None = None  # default 11
    images: int | None = None  # at most this many evaluation images; default 60
    mask_kinds: Sequence[str] | None = None  # the holes to score, each on its own; default box, free
    perceptual: str = "auto"  # VGG16 weights of the perceptual distance
    quick: bool = False
    progress: bool = True
    log: Callable[[str], None] = print
    seconds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.recipe.task != "completion":
            raise EvaluationError(
                f"{self.recipe.path}: this study measures completion recipes, not {self.recipe.task!r}"
            )
        if self.quick:
            if self.model is not None:
                raise EvaluationError("--quick trains its own tiny model from the recipe: leave out --model")
            self.recipe = shrink_recipe(self.recipe, QUICK["steps"], crop=QUICK["crop"], batch=QUICK["batch"])
            self.recipe.data["perceptual"] = self.perceptual  # no download just to check the pipeline
        defaults = QUICK if self.quick else {"knob_points": 11, "images": 60, "m": DEFAULT_M}
        self.knob_points = defaults["knob_points"] if self.knob_points is None else self.knob_points
        self.images = defaults["images"] if self.images is None else self.images
        m = sorted({float(v) for v in (defaults["m"] if self.m_values is None else self.m_values)})
        if not m or m[0] != 0.0 or any(not 0 <= v <= 1 for v in m):
            raise EvaluationError(f"m values must lie in [0, 1] and include 0, got {self.m_values}")
        self.m_values = m
        knob_grid(self.knob_points)  # checks it
        if self.images < 1:
            raise EvaluationError("--images must be at least 1")
        self.mask_kinds = list(dict.fromkeys(self.mask_kinds or DEFAULT_MASKS))
        unknown = [k for k in self.mask_kinds if k not in MASK_KINDS]
        if unknown:
            raise EvaluationError(f"unknown hole kind {unknown[0]!r} (use {', '.join(MASK_KINDS)})")
        d = self.recipe.data
        if "photos" in d["data"] and self.photos is None:
            raise EvaluationError(f"{self.recipe.path} trains on photos: give held-out photos with --photos")
        self.first = PixelObjective.from_dict(d["objectives"][d["main"]["objective"]], "O_0")
        tune = d["tune"][0]
        self.second = PixelObjective.from_dict(d["objectives"][tune["objective"]], "O_1")
        self.runs = RunCache(self.out / "cache", self.progress, self.log, self.seconds)

    # --- networks -------------------------------------------------------------------------
    def _derived(self, name: str, objective: PixelObjective) -> Recipe:
        """A one-objective recipe on the same data, network and seed, with the main stage's budget."""
        d = copy.deepcopy(self.recipe.data)
        d["name"] = name
        source = "photos" if "photos" in d["data"] else "faces"
        d["data"][source] = str(self.recipe.resolve(d["data"][source]).resolve())
        if d["perceptual"] not in ("auto", "random") and self.recipe.resolve(d["perceptual"]).is_file():
            d["perceptual"] = str(self.recipe.resolve(d["perceptual"]).resolve())
        d["objectives"] = {"target": {k: getattr(objective, k) for k in TERMS}}
        d["main"] = {k: v for k, v in d["main"].items() if k != "init"} | {"objective": "target"}
        d["tune"] = [{"set": "default", "objective": "target", "steps": 0, "lr": 1e-4}]
        return self.recipe.derive(d)

    def dynamic_net(self) -> Path:
        return self.runs.trained_from(self.recipe, self.model)

    def fixed_net(self, m: float, dynamic: Path) -> Path:
        if m == 0.0:  # the main network: same objective, data, steps and seed
            return dynamic
        recipe = self._derived(f"fixed-m{m:g}", self.first.mix(self.second, m, f"O_{m:g}"))
        return self.runs.train(f"fixed-m{m:g}", recipe, recipe.hash)

    # --- evaluation images ----------------------------------------------------------------
    def evaluation_set(self) -> tuple[list[str], Tensor]:
        """Names and images (N, 3, S, S) of held-out crops at training size."""
        d = self.recipe.data["data"]
        names, crops = [], []
        if "photos" in d:
            files = held_out_files(self.recipe, self.photos, self.log)
            size, shorter = d["crop"], d["resize"] or d["crop"]
            per_photo = max(1, -(-self.images // len(files)))
            for f in files:
                try:
                    img = resize_shorter(tensor_to_pil(read_image(f)), shorter)
                except ImageReadError:
                    continue
                w, h = img.size
                for k in range(per_photo):  # evenly spread along the longer side
                    t = k / max(1, per_photo - 1) if per_photo > 1 else 0.5
                    left, top = round((w - size) * t), round((h - size) * t)
                    crops.append(np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.float32))
                    names.append(f"{f.name}#{k}")
        else:
            table = read_face_table(self.recipe.resolve(d["faces"]))
            keep = table.split_mask("test" if table.splits is not None else None)
            files = [table.image_folder / f for f, k in zip(table.files, keep) if k][: self.images]
            faces = AlignedFaces(files, size=d["size"])
            for f in files:
                try:
                    crops.append(np.asarray(faces.prepare(Image.open(f).convert("RGB")), dtype=np.float32))
                    names.append(f.name)
                except OSError:
                    continue
        if not crops:
            raise EvaluationError("no held-out images to evaluate on")
        names, crops = names[: self.images], crops[: self.images]
        x = torch.from_numpy(np.stack(crops) / 255.0).permute(0, 3, 1, 2).float()
        return names, x

    def holes(self, kind: str, count: int, side: int) -> Tensor:
        """``count`` holes of ``kind`` (N, 1, S, S), the same on every run; boxes have sides of
        half the recipe's ``hole`` to all of it (a quarter to a half of the side by default)."""
        rng = np.random.default_rng([self.recipe.data["seed"], 7, MASK_KINDS.index(kind)])
        fraction = self.recipe.data["data"]["hole"]
        return torch.stack([draw_mask(kind, rng, side, side, fraction) for _ in range(count)])

    # --- scoring --------------------------------------------------------------------------
    def knobs(self) -> list[float]:
        return knob_grid(self.knob_points)

    def run(self) -> dict:
        names, x = self.evaluation_set()
        self.out.mkdir(parents=True, exist_ok=True)
        dynamic = self.dynamic_net()
        fixed = {m: self.fixed_net(m, dynamic) for m in self.m_values}
        vgg, record = load_perceptual(self.perceptual, seed=self.recipe.data["seed"])
        distance = PerceptualDistance(vgg.eval())
        model = load_model(dynamic).eval()
        fills = classical_fills(self.recipe.data["seed"])
        kinds, spent = {}, 0.0
        for kind in self.mask_kinds:
            masks = self.holes(kind, len(names), int(x.shape[-1]))
            scores = self._score(model, dynamic, fixed, x, masks, distance, record)
            spent += scoring_seconds(scores)
            kinds[kind] = summarize(scores, names, self.knobs(), self.m_values)
            kinds[kind]["baselines"] = self._baselines(fills, x, masks, distance, record)
            kinds[kind]["hole_share"] = float(masks.mean())
            kinds[kind]["ms_per_image"] = self._time(model, x, masks)
            kinds[kind]["pictures"] = self._pictures(model, fills, x, masks, kinds[kind])
        self.seconds["score"] = round(spent, 2)
        results = {
            "knobs": self.knobs(),
            "m": list(self.m_values),
            "kinds": {kind: {k: v for k, v in row.items() if k != "pictures"} for kind, row in kinds.items()},
            "recipe": self.recipe.name,
            "images": len(names),
            "size": int(x.shape[-1]),
            "holes": {"kinds": self.mask_kinds, "hole": self.recipe.data["data"]["hole"]},
            "quick": self.quick,
            "perceptual": record,
            "objectives": {"O_0": self.first.to_dict(), "O_1": self.second.to_dict()},
            "networks": {"dynamic-net": str(dynamic), "fixed": {f"{m:g}": str(p) for m, p in fixed.items()}},
            "seconds": self.seconds,
            "machine": machine(),
        }
        atomic_write(self.out / "results.json", lambda p: Path(p).write_text(json.dumps(results, indent=2)))
        write_report(results, self.out, {kind: row["pictures"] for kind, row in kinds.items()})
        return results

    def _time(self, model, x: Tensor, masks: Tensor) -> float:
        """Milliseconds per image of the Dynamic-Net's fill at one alpha, in batches of 8."""
        start = time.perf_counter()
        with torch.no_grad():
            for i in range(0, len(x), 8):
                model(x[i : i + 8], alpha=0.5, mask=masks[i : i + 8])
        return 1000 * (time.perf_counter() - start) / len(x)

    def _baselines(self, fills: dict, x: Tensor, masks: Tensor, distance, record) -> dict:
        """Each classical fill's mean metrics and milliseconds per image on these holes."""
        cache_path = self.out / "scores.json"
        cache = read_json(cache_path) or {}
        context = score_context(record, x, masks)
        out = {}
        for name, fill in fills.items():
            key = digest(context, "baseline", name)
            if key not in cache:
                start = time.perf_counter()
                done = torch.cat([fill(x[i : i + 8], masks[i : i + 8]) for i in range(0, len(x), 8)])
                seconds = time.perf_counter() - start
                with torch.no_grad():
                    perceptual = torch.cat(
                        [distance(done[i : i + 8], x[i : i + 8]) for i in range(0, len(x), 8)]
                    )
                cache[key] = {
                    "psnr": float(np.mean([psnr(a, b) for a, b in zip(done, x)])),
                    "ssim": float(np.mean([ssim(a, b) for a, b in zip(done, x)])),
                    "perceptual": float(perceptual.mean()),
                    "ms_per_image": 1000 * seconds / len(x),
                }
                atomic_write(cache_path, lambda p: Path(p).write_text(json.dumps(cache)))
            out[name] = cache[key]
        return out

    def _score(self, model, dynamic: Path, fixed: dict, x: Tensor, masks: Tensor, distance, record) -> dict:
        """Per-image metrics for every knob position and fixed network, plus the auto criterion."""
        from ...inference.working_point import CRITERIA, MODEL_CRITERIA, criterion_settings

        cache_path = self.out / "scores.json"
        cache = read_json(cache_path) or {}
        context = score_context(record, x, masks)
        jobs = [("dynamic-net", a, dynamic) for a in self.knobs()]
        jobs += [("fixed", m, path) for m, path in fixed.items()]
        out: dict[str, list[dict]] = {"dynamic-net": [], "fixed": []}
        for method, knob, path in tqdm(jobs, desc="scoring", disable=not self.progress):
            key = digest(context, method, knob, file_digest(path))
            # the blind choices are made among the Dynamic-Net's alphas: the costly one only there
            model_criteria = MODEL_CRITERIA if method == "dynamic-net" else {}
            settings = criterion_settings()
            stale = key in cache and cache[key].get("criterion settings") != settings
            if stale or key not in cache or any(c not in cache[key] for c in (*CRITERIA, *model_criteria)):
                begun = time.perf_counter()
                net = model if method == "dynamic-net" else load_model(path).eval()
                alpha = knob if method == "dynamic-net" else 0.0
                with torch.no_grad():
                    done = torch.cat(
                        [net(x[i : i + 8], alpha=alpha, mask=masks[i : i + 8]) for i in range(0, len(x), 8)]
                    )
                    perceptual = torch.cat(
                        [distance(done[i : i + 8], x[i : i + 8]) for i in range(0, len(x), 8)]
                    )
                    blind = {name: score(done, masks).tolist() for name, score in CRITERIA.items()}
                    for name, score in model_criteria.items():  # another fill per alpha: batches of 8
                        parts = [
                            score(net, x[i : i + 8], masks[i : i + 8])(alpha) for i in range(0, len(x), 8)
                        ]
                        blind[name] = torch.cat(parts).tolist()
                cache[key] = {
                    "psnr": [psnr(a, b) for a, b in zip(done, x)],
                    "ssim": [ssim(a, b) for a, b in zip(done, x)],
                    "perceptual": perceptual.tolist(),
                    **blind,
                    "criterion settings": settings,  # scores made under other settings are made again
                    "seconds": time.perf_counter() - begun,  # a rerun reports it, not 0
                }
                atomic_write(cache_path, lambda p: Path(p).write_text(json.dumps(cache)))
            out[method].append({"knob": knob, **cache[key]})
        return out

    def _pictures(
        self, model, fills: dict, x: Tensor, masks: Tensor, results: dict, rows: int = 6
    ) -> Image.Image:
        """Input with its hole, the classical fills users know best, alpha 0, the auto alpha,
        alpha 1 and the ground truth, for a few images."""
        classical = [n for n in ("OpenCV Telea", "PatchMatch") if n in fills] or [next(iter(fills))]
        auto = results["per_image"]["auto_alpha"]
        picked = np.linspace(0, len(x) - 1, min(rows, len(x))).round().astype(int)
        grid, labels = [], []
        for i in picked:
            xi, mi = x[i : i + 1], masks[i : i + 1]
            with torch.no_grad():
                outs = [model(xi, alpha=a, mask=mi)[0] for a in (0.0, auto[i], 1.0)]
            shown = torch.where(mi[0] > 0.5, torch.full_like(xi[0], 0.5), xi[0])
            known = [fills[name](xi, mi)[0] for name in classical]
            grid.append([tensor_to_pil(t) for t in (shown, *known, *outs, xi[0])])
            labels.append(f"auto {auto[i]:g}")
        columns = ["input", *classical, "alpha 0", "auto alpha", "alpha 1", "ground truth"]
        return contact_sheet(grid, columns, cell=128, row_labels=labels)


def psnr(a: Tensor, b: Tensor) -> float:
    return float(_metrics.peak_signal_noise_ratio(b.numpy(), a.clamp(0, 1).numpy(), data_range=1.0))


def ssim(a: Tensor, b: Tensor) -> float:
    return float(
        _metrics.structural_similarity(b.numpy(), a.clamp(0, 1).numpy(), channel_axis=0, data_range=1.0)
    )


def _criteria() -> tuple[str, ...]:
    """Every blind criterion, ``--auto``'s own first: its column is the table's "auto"."""
    from ...inference.working_point import CRITERION_NAMES, DEFAULT_CRITERION

    return (DEFAULT_CRITERION, *(c for c in CRITERION_NAMES if c != DEFAULT_CRITERION))


def _auto_key(criterion: str, default: str) -> str:
    return "auto" if criterion == default else f"auto_{criterion}"


def summarize(scores: dict, names: list[str], knobs: list[float], m_values: Sequence[float]) -> dict:
    """Global best alpha, per-image oracle and auto alpha, fixed networks: for every metric."""
    points = scores["dynamic-net"]
    criteria = _criteria()
    picks = {c: np.array([p[c] for p in points]).argmin(axis=0) for c in criteria}
    table = {}
    for metric, better in METRICS.items():
        values = np.array([p[metric] for p in points])  # (knobs, images)
        sign = 1.0 if better == "higher" else -1.0
        means = values.mean(axis=1)
        best_global = int(np.argmax(sign * means))
        oracle_index = np.argmax(sign * values, axis=0)
        columns = np.arange(values.shape[1])
        table[metric] = {
            "better": better,
            "curve": means.tolist(),
            "alpha_0": float(means[0]),
            "alpha_1": float(means[-1]),
            "best_global": {"alpha": knobs[best_global], "value": float(means[best_global])},
            "oracle": {
                "value": float(values[oracle_index, columns].mean()),
                "alphas": [knobs[i] for i in oracle_index],
            },
            **{_auto_key(c, criteria[0]): _auto_row(values, picks[c], oracle_index, knobs) for c in criteria},
            "fixed": {f"{p['knob']:g}": float(np.mean(p[metric])) for p in scores["fixed"]},
        }
    return {
        "knobs": knobs,
        "m": list(m_values),
        "criterion": criteria[0],
        "table": table,
        "per_image": {
            "names": names,
            **{f"{_auto_key(c, criteria[0])}_alpha": [knobs[i] for i in picks[c]] for c in criteria},
        },
        "points": scores,
    }


def _auto_row(values: np.ndarray, index: np.ndarray, oracle_index: np.ndarray, knobs: list[float]) -> dict:
    """A blind choice's mean metric and how often it is the oracle's alpha (or within 0.1)."""
    columns = np.arange(values.shape[1])
    grid = np.array(knobs)
    return {
        "value": float(values[index, columns].mean()),
        "agrees": float(np.mean(index == oracle_index)),
        "within_0.1": float(np.mean(np.abs(grid[index] - grid[oracle_index]) <= 0.1 + 1e-9)),
    }


def _with_share(choice: dict, best: float, oracle: float) -> dict:
    """A blind choice with the share of the oracle's gain over the best single alpha it finds."""
    share = f"{(choice['value'] - best) / (oracle - best):.0%}" if oracle != best else "-"
    return {**choice, "share": share}


def markdown_table(results: dict) -> str:
    """One kind of hole: the Dynamic-Net over alpha, its choices of alpha and the fixed networks."""
    fixed = results["table"]["psnr"]["fixed"]
    criteria = _criteria()
    rows = [
        "| metric | alpha 0 | alpha 1 | best single alpha | per-image oracle "
        f"| auto: {criteria[0]} (share of the oracle's gain; agrees with oracle; within 0.1) "
        + "".join(f"| auto: {c} (share; agrees) " for c in criteria[1:])
        + "| "
        + " | ".join(f"fixed m={m}" for m in fixed)
        + " |",
        "|---" * (5 + len(criteria) + len(fixed)) + "|",
    ]
    for metric, row in results["table"].items():
        arrow = "higher" if row["better"] == "higher" else "lower"
        best, oracle = row["best_global"]["value"], row["oracle"]["value"]
        auto, *others = (_with_share(row[_auto_key(c, criteria[0])], best, oracle) for c in criteria)
        rows.append(
            f"| {metric} ({arrow} is better) | {row['alpha_0']:.4g} | {row['alpha_1']:.4g} | "
            f"{best:.4g} (alpha {row['best_global']['alpha']:g}) | {oracle:.4g} | "
            f"{auto['value']:.4g} ({auto['share']}; {auto['agrees']:.0%}; {auto['within_0.1']:.0%}) | "
            + "".join(f"{o['value']:.4g} ({o['share']}; {o['agrees']:.0%}) | " for o in others)
            + " | ".join(f"{v:.4g}" for v in row["fixed"].values())
            + " |"
        )
    return "\n".join(rows)


def baseline_table(results: dict) -> str:
    """One kind of hole: the Dynamic-Net at its auto alpha beside each classical fill."""
    auto = {metric: row["auto"]["value"] for metric, row in results["table"].items()}
    fills = {"Dynamic-Net, auto alpha": {**auto, "ms_per_image": results["ms_per_image"]}}
    rows = [
        "| fill | PSNR (higher is better) | SSIM (higher is better) | perceptual (lower is better) "
        "| ms per image |",
        "|---|---|---|---|---|",
    ]
    for name, row in {**fills, **results["baselines"]}.items():
        rows.append(
            f"| {name} | {row['psnr']:.2f} | {row['ssim']:.4f} | {row['perceptual']:.4f} "
            f"| {row['ms_per_image']:.0f} |"
        )
    return "\n".join(rows)


def plot_metrics(results: dict, kind: str, path: Path) -> Path:
    """Each metric's mean over alpha, the fixed networks at alpha = m, the classical fills."""
    row_of_kind = results["kinds"][kind]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, (metric, row) in zip(axes, row_of_kind["table"].items()):
        ax.plot(results["knobs"], row["curve"], "o-", ms=3, label="Dynamic-Net over alpha")
        fixed = row["fixed"]
        ax.plot([float(m) for m in fixed], list(fixed.values()), "k*", ms=10,
                label="fixed network for O_m (at alpha = m)")  # fmt: skip
        ax.axhline(row["oracle"]["value"], color="tab:green", ls="--", lw=1, label="per-image oracle alpha")
        for criterion, colour in zip(_criteria()[:2], ("tab:orange", "tab:cyan")):
            key = _auto_key(criterion, _criteria()[0])
            ax.axhline(row[key]["value"], color=colour, ls=":", lw=1.5, label=f"auto alpha ({criterion})")
        for (name, baseline), colour in zip(
            row_of_kind["baselines"].items(), ("tab:purple", "tab:red", "tab:brown", "tab:olive")
        ):
            ax.axhline(baseline[metric], color=colour, ls="-.", lw=1, label=name)
        ax.set_xlabel("alpha (m for fixed networks)")
        ax.set_title(f"{metric} ({row['better']} is better)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{results['recipe']}: {results['images']} held-out images, {kind} holes")
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


HOLE_WORDS = {"box": "rectangles", "free": "brush strokes", "centre": "the centred square", "mixed": "mixed"}


def write_report(results: dict, out: Path, pictures: dict[str, Image.Image]) -> Path:
    seconds = ", ".join(f"{k} {v / 60:.1f} min" for k, v in results["seconds"].items())
    sections = []
    for kind, row in results["kinds"].items():
        plot_metrics(results, kind, out / f"metrics-{kind}.png")
        atomic_write(
            out / f"pictures-{kind}.jpg", lambda p, k=kind: pictures[k].save(p, format="JPEG", quality=90)
        )
        sections.append(f"""## Holes: {HOLE_WORDS[kind]} ({row["hole_share"]:.0%} of the pixels)

{baseline_table(row)}

{markdown_table(row)}

![metrics over alpha](metrics-{kind}.png)

Input with its hole, classical fills (OpenCV Telea, PatchMatch), alpha 0, the auto alpha, alpha 1
and the ground truth:

![pictures](pictures-{kind}.jpg)
""")
    text = f"""# Completion study: {results["recipe"]}

{results["images"]} held-out images at {results["size"]} px; perceptual distance on VGG16 features
({results["perceptual"].get("source", "?")} weights). Mean over the images; PSNR and SSIM over the
whole crop (the known pixels are exact for every fill). "best single alpha" is the one alpha
that is best on average; the oracle picks each image's best alpha with the ground truth; auto
picks it without: by the smallest colour step across the hole's edge (seam), by matching the
detail around the hole (detail), or by how well each alpha restores a ring of known pixels
hidden with the hole (ring); the first auto column is what `--auto` uses
({results["kinds"][next(iter(results["kinds"]))].get("criterion", "seam")}). The percentages say
how often it picked the oracle's alpha.
Times are for one image on this machine, the Dynamic-Net's at one alpha.

{chr(10).join(sections)}
Machine: {results["machine"]}.
Time: {seconds}.
"""
    atomic_write(out / "report.md", lambda p: Path(p).write_text(text))
    return out / "report.md"
