"""Does alpha move generated faces from one attribute to the other, and how good are they on the way?

For a Dynamic DCGAN recipe (main subset A, tuned subset B) the study measures, on a fixed
set of latent codes:

- the share of faces an attribute classifier (trained on real faces, accuracy reported)
  calls B, over a grid of alpha: it should go from A's rate to B's rate, monotonically;
- KID to real held-out faces of A and of B, and a diversity score, over the same grid.

The same numbers come for two alternatives a user could pick: a generator trained on B
directly (the fixed network at the B end; at the A end the fixed network *is* the main
generator), and DNI: the main generator's weights mixed with those of a copy fine-tuned
on B for as many steps as the block got (BatchNorm statistics re-measured at each mix).
Networks are trained once into ``OUT/cache`` and reused; the report lands in ``OUT``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from safetensors.torch import load_file, save_file
from torch import Tensor
from tqdm import tqdm

from ...data.celeba import evaluate, read_face_table
from ...data.images import atomic_save, tensor_to_pil
from ...data.sheet import contact_sheet, tile
from ...evaluation.distribution import PooledFeatures, diversity, kid
from ...evaluation.runs import (
    EvaluationError,
    RunCache,
    digest,
    file_digest,
    fine_tune_key,
    knob_grid,
    machine,
    read_json,
    shrink_recipe,
    write_json,
)
from ...extras import pyplot
from ...io.atomic import atomic_write
from ...perceptual import load_perceptual
from ...training.recipe import Recipe
from .. import load_model
from .attributes import AttributeClassifier, AttributeNet, load_faces, train_classifier
from .model import GanModel
from .training import recalibrate_batchnorm

METHODS = ("dynamic-net", "dni")
LABELS = {"dynamic-net": "Dynamic-Net (alpha)", "dni": "DNI (weight mix)", "fixed": "fixed generators"}
SEED = 2024  # latent codes of every scored sample set
QUICK = {"samples": 8, "knob_points": 3, "steps": 4, "batch": 4, "classifier_steps": 5, "real": 16}


@dataclass
class GanStudy:
    """One attribute-control evaluation of a GAN recipe; :meth:`run` does (or resumes) it all."""

    recipe: Recipe
    out: Path
    model: str | None = None  # an already trained Dynamic DCGAN of this recipe (path or name)
    samples: int | None = None  # generated faces per point; default 1000 (8 with quick)
    knob_points: int | None = None  # alpha grid in [0, 1]; default 11 (3 with quick)
    classifier_steps: int = 600
    perceptual: str = "auto"  # VGG16 weights for the KID features
    quick: bool = False
    progress: bool = True
    log: Callable[[str], None] = print
    seconds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.recipe.task != "gan":
            raise EvaluationError(
                f"{self.recipe.path}: the GAN study measures GAN recipes, not {self.recipe.task!r}"
            )
        if self.quick:
            self.recipe = shrink_recipe(self.recipe, QUICK["steps"], batch=QUICK["batch"])
            self.classifier_steps = QUICK["classifier_steps"]
        if self.samples is None:
            self.samples = QUICK["samples"] if self.quick else 1000
        if self.knob_points is None:
            self.knob_points = QUICK["knob_points"] if self.quick else 11
        if self.samples < 2:
            raise EvaluationError("--samples must be at least 2")
        knob_grid(self.knob_points)  # checks it
        d = self.recipe.data
        if len(d["tune"]) != 1:
            raise EvaluationError(f"{self.recipe.path}: the GAN study needs exactly one [[tune]] stage")
        self.main_subset, self.tune_subset = d["main"]["subset"], d["tune"][0]["subset"]
        self.table = read_face_table(self.recipe.resolve(d["data"]["faces"]))
        if self.table.splits is None:
            raise EvaluationError(
                f"{self.table.root}: no list_eval_partition.txt; the study scores held-out (test) faces"
            )
        self.runs = RunCache(self.out / "cache", self.progress, self.log, self.seconds)

    # --- networks -------------------------------------------------------------------------
    def _derived(self, name: str, main: dict) -> Recipe:
        """A recipe of the same data, sizes and seed whose main stage is ``main``; no tuning."""
        d = copy.deepcopy(self.recipe.data)
        d["name"] = name
        d["data"]["faces"] = str(self.recipe.resolve(d["data"]["faces"]).resolve())
        d["model"]["variant"] = "single"
        d["main"] = main
        d["tune"] = [{"set": "default", "subset": main["subset"], "steps": 0, "lr": 1e-4}]
        return self.recipe.derive(d)

    def fixed_tuned(self) -> Path:
        """A generator trained on the tuned subset directly, with the main stage's budget."""
        recipe = self._derived("fixed-tuned", {**self.recipe.data["main"], "subset": self.tune_subset})
        recipe.data["main"].pop("init", None)
        return self.runs.train("fixed-tuned", recipe, recipe.hash)

    def dni_net(self, dynamic: Path) -> Path:
        """The main generator fine-tuned (all weights) on the tuned subset under the block's stage
        settings: its steps, rate and adversary overrides (soft labels, R1)."""
        tune = self.recipe.data["tune"][0]
        main = {
            "subset": self.tune_subset,
            "steps": tune["steps"],
            "lr": tune["lr"],
            "init": str(dynamic.resolve()),
            **{k: tune[k] for k in ("real_label", "r1") if k in tune},
        }
        recipe = self._derived("dni-tuned", main)
        return self.runs.train("dni", recipe, fine_tune_key(recipe, dynamic))

    def classifier(self) -> AttributeClassifier:
        """The tuned subset's expression as a classifier, trained once and cached."""
        key = digest(
            self.table.root.resolve(), self.tune_subset, self.classifier_steps, self.recipe.data["seed"]
        )
        path = self.out / "cache" / f"classifier-{key}.safetensors"
        info = read_json(path.with_suffix(".json"))
        if path.exists() and info is not None:
            net = AttributeNet()
            net.load_state_dict(load_file(path))
            return AttributeClassifier(self.tune_subset, net.eval(), info["accuracy"], info["held_out"])
        self.log(f"training the attribute classifier for {self.tune_subset!r}")
        start = time.perf_counter()
        clf = train_classifier(
            self.table, self.tune_subset, steps=self.classifier_steps, seed=self.recipe.data["seed"],
            limit=QUICK["real"] * 8 if self.quick else None,
        )  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda p: save_file(clf.net.state_dict(), str(p)))
        info = {
            "accuracy": clf.accuracy,
            "held_out": clf.held_out,
            "seconds": round(time.perf_counter() - start, 1),
        }
        write_json(path.with_suffix(".json"), info)
        self.seconds["train classifier"] = info["seconds"]
        return clf

    # --- scoring --------------------------------------------------------------------------
    def knobs(self) -> list[float]:
        return knob_grid(self.knob_points)

    def real_faces(self) -> dict[str, Tensor]:
        """Held-out (test split) real faces of each subset."""
        limit = QUICK["real"] if self.quick else None
        images, rows = load_faces(self.table, "test", limit=None if limit is None else limit * 8)
        out = {}
        for name, expression in (("main", self.main_subset), ("tuned", self.tune_subset)):
            keep = evaluate(expression, self.table)[rows]
            faces = images[torch.from_numpy(keep)]
            if limit is not None:
                faces = faces[:limit]
            if len(faces) < 2:
                raise EvaluationError(f"fewer than 2 test-split faces match {expression!r}")
            out[name] = faces
        return out

    def run(self) -> dict:
        """Train what is missing, score both methods and the fixed generators, write the report."""
        self.out.mkdir(parents=True, exist_ok=True)
        dynamic = self.runs.trained_from(self.recipe, self.model)
        fixed = self.fixed_tuned()
        dni = self.dni_net(dynamic)
        clf = self.classifier()
        start = time.perf_counter()
        vgg, record = load_perceptual(self.perceptual, seed=self.recipe.data["seed"])
        features = PooledFeatures(vgg)
        real = self.real_faces()
        real_feats = {k: features(v) for k, v in real.items()}
        context = digest(
            record.get("sha256"), self.samples, clf.accuracy, {k: len(v) for k, v in real.items()}
        )
        cache_path = self.out / "scores.json"
        cache = read_json(cache_path) or {}
        generators = Generators(dynamic, dni, fixed, self.recipe.data["data"]["batch"])
        jobs = [(m, a) for m in METHODS for a in self.knobs()] + [("fixed", 0.0), ("fixed", 1.0)]
        keys = {"dynamic-net": file_digest(dynamic), "dni": file_digest(dni), "fixed": file_digest(fixed)}
        points: dict[str, list[dict]] = {k: [] for k in (*METHODS, "fixed")}
        for method, a in tqdm(jobs, desc="scoring", disable=not self.progress):
            key = digest(context, method, a, keys["dynamic-net"], keys[method])
            if key not in cache:
                faces = generators.faces(method, a, self.samples)
                feats = features(faces)
                cache[key] = {
                    "rate": clf.rate(faces),
                    "kid_main": kid(feats, real_feats["main"])[0],
                    "kid_tuned": kid(feats, real_feats["tuned"])[0],
                    "diversity": diversity(feats),
                }
                write_json(cache_path, cache)
            points[method].append({"knob": a, **cache[key]})
        real_points = {
            k: {"rate": clf.rate(v), "diversity": diversity(real_feats[k]), "n": len(v)}
            for k, v in real.items()
        }
        self.seconds["score"] = round(time.perf_counter() - start, 1)
        results = {
            "recipe": self.recipe.name,
            "recipe_hash": self.recipe.hash,
            "subsets": {"main": self.main_subset, "tuned": self.tune_subset},
            "samples": self.samples,
            "classifier": {"expression": clf.expression, "accuracy": clf.accuracy, "held_out": clf.held_out},
            "perceptual": record,
            "networks": {"dynamic-net": str(dynamic), "dni": str(dni), "fixed-tuned": str(fixed)},
            "points": points,
            "real": real_points,
            "monotone": {m: is_monotone([p["rate"] for p in points[m]]) for m in METHODS},
            "seconds": self.seconds,
            "machine": machine(),
            "quick": self.quick,
        }
        write_json(self.out / "results.json", results, indent=2)
        write_report(results, self.out, generators)
        return results


def is_monotone(values: Sequence[float], tolerance: float = 0.02) -> bool:
    """Non-decreasing, allowing dips of at most ``tolerance`` (sampling noise of a rate)."""
    return all(b >= a - tolerance for a, b in zip(values, values[1:]))


class Generators:
    """Faces from the Dynamic DCGAN, its DNI alternative and the fixed generators, same codes."""

    def __init__(self, dynamic: Path, dni: Path, fixed_tuned: Path, batch: int) -> None:
        self.model: GanModel = load_model(dynamic).eval()
        self.fixed = {0.0: self.model, 1.0: load_model(fixed_tuned).eval()}
        self._dni = copy.deepcopy(self.model)
        self._ends = (self.model.net.base.state_dict(), load_model(dni).net.base.state_dict())
        self.batch = batch

    def _dni_at(self, a: float) -> GanModel:
        start, end = self._ends
        mixed = {
            k: torch.lerp(v.float(), end[k].float(), a) if v.is_floating_point() else v
            for k, v in start.items()
        }
        self._dni.net.base.load_state_dict(mixed)
        if 0.0 < a < 1.0:  # the ends keep the statistics they were trained with
            recalibrate_batchnorm(self._dni, batch=max(self.batch, 32), batches=32, seed=(SEED, 7))
        return self._dni

    @torch.no_grad()
    def faces(self, method: str, a: float, n: int) -> Tensor:
        if method == "dynamic-net":
            model, alpha = self.model, a
        elif method == "dni":
            model, alpha = self._dni_at(a), 0.0
        elif method == "fixed":
            model, alpha = self.fixed[a], 0.0
        else:
            raise ValueError(f"unknown method {method!r}")
        z = self.model.latents(n, SEED)
        return torch.cat([model(z[s : s + 256], alpha=alpha) for s in range(0, n, 256)]).clamp(0, 1)


# --- report -----------------------------------------------------------------------------------
def plot_study(results: dict, path: Path) -> Path:
    """Left: attribute rate over alpha. Middle and right: KID to real faces of each subset."""
    plt = pyplot("plotting a study")

    points, real, subsets = results["points"], results["real"], results["subsets"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
    panels = (
        ("rate", f"share classified {subsets['tuned']}"),
        ("kid_main", f"KID to real {subsets['main']} faces"),
        ("kid_tuned", f"KID to real {subsets['tuned']} faces"),
    )
    for ax, (key, label) in zip(axes, panels):
        for method, style in zip(METHODS, ("o-", "^-.")):
            pts = points[method]
            ax.plot([p["knob"] for p in pts], [p[key] for p in pts], style, ms=4, label=LABELS[method])
        fixed = points["fixed"]
        ax.plot([p["knob"] for p in fixed], [p[key] for p in fixed], "k*", ms=12, label=LABELS["fixed"])
        if key == "rate":
            for name, ls in (("main", ":"), ("tuned", "--")):
                ax.axhline(real[name]["rate"], color="gray", ls=ls, lw=1, label=f"real {subsets[name]} faces")
        ax.set_xlabel("knob (alpha for the Dynamic-Net, mix for DNI)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{results['recipe']}: {results['samples']} generated faces per point")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sample_sheet(generators: Generators, knobs: Sequence[float], n: int = 8, zoom: int = 2) -> Image.Image:
    """One row of ``n`` faces per method and knob, plus the fixed generators (same codes)."""
    rows, labels = [], []

    def row(method: str, a: float, label: str) -> None:
        strip = tensor_to_pil(tile(generators.faces(method, a, n), columns=n))
        rows.append([strip.resize((strip.width * zoom, strip.height * zoom), Image.Resampling.NEAREST)])
        labels.append(label)

    for method in METHODS:
        for a in knobs:
            row(method, a, f"{method} {a:g}")
    row("fixed", 0.0, "fixed main")
    row("fixed", 1.0, "fixed tuned")
    return contact_sheet(rows, [""], cell=64 * zoom * n, pad=4, row_labels=labels)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # an expression such as A | B inside a table cell


def markdown_table(results: dict) -> str:
    lines = [
        "| method | knob | share classified tuned | KID to main | KID to tuned | diversity |",
        "|---|---|---|---|---|---|",
    ]
    for method in (*METHODS, "fixed"):
        name = {"fixed": "fixed generator"}.get(method, LABELS[method])
        for p in results["points"][method]:
            lines.append(
                f"| {name} | {p['knob']:g} | {p['rate']:.3f} | {p['kid_main']:.4f} | {p['kid_tuned']:.4f} "
                f"| {p['diversity']:.3g} |"
            )
    for k in ("main", "tuned"):
        r = results["real"][k]
        lines.append(
            f"| real {_cell(results['subsets'][k])} (test split, {r['n']}) | - | {r['rate']:.3f} | | "
            f"| {r['diversity']:.3g} |"
        )
    return "\n".join(lines)


def write_report(results: dict, out: Path, generators: Generators) -> Path:
    """``report.md`` with the table, ``study.png`` (rates and KID) and ``samples.png`` in ``out``."""
    plot_study(results, out / "study.png")
    knobs = sorted({0.0, 0.25, 0.5, 0.75, 1.0} if not results["quick"] else {0.0, 1.0})
    atomic_save(sample_sheet(generators, knobs), out / "samples.png")
    clf = results["classifier"]
    monotone = ", ".join(f"{LABELS[m]}: {'yes' if v else 'no'}" for m, v in results["monotone"].items())
    seconds = ", ".join(f"{k} {v / 60:.1f} min" for k, v in results["seconds"].items())
    lines = [
        f"# Attribute control: {results['recipe']}",
        "",
        f"Main subset `{results['subsets']['main']}`, tuned subset `{results['subsets']['tuned']}`; "
        f"{results['samples']} faces per point from the same latent codes. The attribute classifier "
        f"(`{clf['expression']}`) scores {clf['accuracy']:.1%} on {clf['held_out']} held-out real faces. "
        "KID (lower is closer) uses globally pooled VGG16 features against the test split.",
        "",
        markdown_table(results),
        "",
        f"Rate monotone over the knob (dips under 0.02 allowed): {monotone}.",
        "",
        "![rates and KID](study.png)",
        "",
        "![samples](samples.png)",
        "",
        f"Machine: {results['machine']}.",
        f"Time: {seconds or 'not recorded'}.",
    ]
    text = "\n".join(lines) + "\n"
    return atomic_write(out / "report.md", lambda p: Path(p).write_text(text, encoding="utf-8"))
