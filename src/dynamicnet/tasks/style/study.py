"""Does one Dynamic-Net emulate many fixed networks? The paper's objective-plane test.

For a recipe with main objective O_0 and tuned objective O_1, every intermediate
objective O_m = (1 - m) O_0 + m O_1 gets a fixed network trained for it alone (same
architecture, data, steps, learning rate and seed as the Dynamic-Net's main network).
Three one-knob methods are then scored on held-out photos by the best O_m they reach:

- ``dynamic-net``: the Dynamic-Net over alpha (every block at the same alpha);
- ``pixel-blend``: (1 - a) y_0 + a y_1, the Dynamic-Net's two end outputs mixed as pixels;
- ``dni``: Deep Network Interpolation, the main network's weights mixed with those of a
  copy fine-tuned on O_1 for as many steps as the tuning blocks got.

All objectives are linear in their terms, so each output reduces to one point
(O_0, O_1) and O_m is (1 - m) O_0 + m O_1 of that point: the objective plane.
Trained networks live in ``OUT/cache/KIND-HASH`` and resume; scores are cached by a
hash of everything they depend on, so a rerun only does what changed.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from torch import Tensor
from tqdm import tqdm

from ...data.images import ImageReadError, read_image
from ...evaluation.objectives import Scorer
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
    shrink_recipe,
)
from ...io.atomic import atomic_write
from ...losses.perceptual import StyleLoss, StyleObjective, StyleTarget
from ...perceptual import load_perceptual
from ...training.recipe import Recipe
from .knobs import METHODS, KnobMethods, fixed_output
from .study_report import picture_grid, write_report

DEFAULT_M = (0.0, 0.25, 0.5, 0.75, 1.0)
QUICK = {"crop": 32, "batch": 2, "steps": 4, "size": 48, "knob_points": 5, "m": (0.0, 0.5, 1.0)}


def mix_objectives(first: StyleObjective, second: StyleObjective, m: float) -> StyleObjective:
    """O_m = (1 - m) first + m second, as one objective whose loss is exactly that sum."""
    targets = [
        StyleTarget(t.image, t.size, t.weight * share * obj.style_weight)
        for obj, share in ((first, 1.0 - m), (second, m))
        if share > 0
        for t in obj.styles
    ]
    return StyleObjective(
        styles=tuple(targets),
        content_weight=(1.0 - m) * first.content_weight + m * second.content_weight,
        style_weight=1.0,
        tv_weight=(1.0 - m) * first.tv_weight + m * second.tv_weight,
        color_weight=(1.0 - m) * first.color_weight + m * second.color_weight,
        name=f"O_{m:g}",
    )


def objective_table(obj: StyleObjective) -> dict:
    """The recipe table of an objective (absolute image paths)."""
    return {
        "styles": [{"image": t.image, "size": t.size, "weight": t.weight} for t in obj.styles],
        "content_weight": obj.content_weight,
        "style_weight": obj.style_weight,
        "tv_weight": obj.tv_weight,
        "color_weight": obj.color_weight,
    }


@dataclass
class ObjectiveSpaceStudy:
    """One objective-space evaluation of a recipe; :meth:`run` does (or resumes) it all."""

    recipe: Recipe
    photos: Path
    out: Path
    model: str | None = None  # an already trained Dynamic-Net of this recipe (path or name)
    set_name: str | None = None  # which tuned block set is O_1 (default: the first)
    m_values: Sequence[float] | None = None  # default 0, 0.25, 0.5, 0.75, 1 (0, 0.5, 1 with quick)
    knob_points: int | None = None  # default 21 (5 with quick)
    size: int | None = None  # longer side of the scored photos; default 384 (48 with quick)
    fixed_steps: int | None = None  # the fixed networks' steps; default: the main stage's
    cache: Path | None = None  # trained networks (default OUT/cache); studies of one recipe can share it
    quick: bool = False
    progress: bool = True
    log: Callable[[str], None] = print
    seconds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.recipe.task != "style":
            raise EvaluationError(
                f"{self.recipe.path}: the objective-space study measures style recipes, "
                f"not {self.recipe.task!r}"
            )
        defaults = QUICK if self.quick else {"knob_points": 21, "size": 384, "m": DEFAULT_M}
        if self.quick:
            self.recipe = shrink_recipe(
                self.recipe, QUICK["steps"], crop=QUICK["crop"], batch=QUICK["batch"], resize=None
            )
        self.knob_points = defaults["knob_points"] if self.knob_points is None else self.knob_points
        self.size = defaults["size"] if self.size is None else self.size
        self.m_values = defaults["m"] if self.m_values is None else self.m_values
        m = sorted(set(float(v) for v in self.m_values))
        if not m or m[0] != 0.0 or m[-1] != 1.0 or any(not 0 <= v <= 1 for v in m):
            raise EvaluationError(f"m values must lie in [0, 1] and include 0 and 1, got {self.m_values}")
        self.m_values = m
        knob_grid(self.knob_points)  # checks it
        if self.fixed_steps is not None and self.fixed_steps < 1:
            raise EvaluationError("--fixed-steps must be at least 1")
        if self.size < 16:
            raise EvaluationError("--size must be at least 16 pixels")
        d = self.recipe.data
        if d["model"].get("init"):
            raise EvaluationError(
                f"{self.recipe.path}: [model] init starts the blocks from another model, so the fixed "
                "networks could not start where the Dynamic-Net does; use [main] init (the main network "
                "only), from which every network of the study then starts"
            )
        sets = self.recipe.tune_sets
        self.set_name = self.set_name or sets[0]
        if self.set_name not in sets:
            raise EvaluationError(f"{self.recipe.path}: no tuned block set {self.set_name!r} (has {sets})")
        base = self.recipe.base_dir.resolve()
        tune = next(t for t in d["tune"] if t["set"] == self.set_name)
        self.main_stage, self.tune_stage = d["main"], tune
        self.first = StyleObjective.from_dict(d["objectives"][d["main"]["objective"]], base, "O_0")
        self.second = StyleObjective.from_dict(d["objectives"][tune["objective"]], base, "O_1")
        self.runs = RunCache(self.cache or self.out / "cache", self.progress, self.log, self.seconds)

    # --- training -------------------------------------------------------------------------
    def _derived(self, name: str, objective: StyleObjective, main: dict) -> Recipe:
        """A one-objective recipe on the same data, architecture and seed; its tune stage is empty.
        A ``[main] init`` stays: every network of the study starts from the same weights."""
        d = copy.deepcopy(self.recipe.data)
        d["name"] = name
        d["model"] = {"variant": "single"}
        if "architecture" in self.recipe.data["model"]:
            d["model"]["architecture"] = self.recipe.data["model"]["architecture"]
        d["data"]["photos"] = str(self.recipe.resolve(d["data"]["photos"]).resolve())
        d["perceptual"] = self._perceptual_spec()
        d["objectives"] = {"target": objective_table(objective)}
        d["main"] = {**main, "objective": "target"}
        d["tune"] = [{"set": "default", "objective": "target", "steps": 0, "lr": 1e-4}]
        return self.recipe.derive(d)

    def _perceptual_spec(self) -> str:
        spec = self.recipe.data["perceptual"]
        resolved = self.recipe.resolve(spec)
        return str(resolved.resolve()) if resolved.is_file() else spec

    def dynamic_net(self) -> Path:
        return self.runs.trained_from(self.recipe, self.model)

    def fixed_net(self, m: float, dynamic: Path) -> Path:
        if m == 0.0 and self.fixed_steps is None:  # the main network: same objective, data, steps, seed
            return dynamic
        main = self.main_stage if self.fixed_steps is None else {**self.main_stage, "steps": self.fixed_steps}
        recipe = self._derived(f"fixed-m{m:g}", mix_objectives(self.first, self.second, m), main)
        return self.runs.train(f"fixed-m{m:g}", recipe, recipe.hash)

    def dni_net(self, dynamic: Path) -> Path:
        """The main network fine-tuned on O_1 (all weights) for the tuning stage's steps and rate."""
        tune = self.tune_stage
        main = {"steps": tune["steps"], "lr": tune["lr"], "init": str(dynamic.resolve())}
        recipe = self._derived("dni-second", self.second, main)
        return self.runs.train("dni", recipe, fine_tune_key(recipe, dynamic))

    # --- photos ---------------------------------------------------------------------------
    def held_out_photos(self) -> list[tuple[str, Tensor]]:
        """The evaluation photos, minus any whose bytes are among the training photos."""
        kept, unreadable = [], 0
        for f in held_out_files(self.recipe, self.photos, self.log):
            try:
                kept.append((f.name, read_image(f, max_side=self.size)))
            except ImageReadError:
                unreadable += 1
        if unreadable:
            self.log(f"skipped {unreadable} unreadable photo(s) in {self.photos}")
        if not kept:
            raise EvaluationError(f"{self.photos}: no readable held-out photos to evaluate on")
        return kept

    # --- scoring --------------------------------------------------------------------------
    def knobs(self) -> list[float]:
        return knob_grid(self.knob_points)

    def run(self) -> dict:
        """Train what is missing, score every method, and return the results (also in OUT)."""
        photos = self.held_out_photos()
        self.out.mkdir(parents=True, exist_ok=True)
        dynamic = self.dynamic_net()
        fixed = {m: self.fixed_net(m, dynamic) for m in self.m_values}
        dni = self.dni_net(dynamic)
        start = time.perf_counter()
        scores = self._score_all(dynamic, fixed, dni, photos)
        self.seconds["score"] = round(time.perf_counter() - start, 1)
        results = self._results(scores, photos, dynamic, fixed, dni)
        write_report(results, self.out, picture_grid(results, photos[0][1]))
        return results

    def _score_all(self, dynamic: Path, fixed: dict[float, Path], dni: Path, photos) -> dict:
        vgg, record = load_perceptual(self._perceptual_spec(), seed=self.recipe.data["seed"])
        criteria = {"O_0": StyleLoss(vgg, self.first), "O_1": StyleLoss(vgg, self.second)}
        scorer = Scorer(criteria)
        inputs = [x.unsqueeze(0) for _, x in photos]
        cache_path = self.out / "scores.json"
        cache = read_json(cache_path) or {}
        context = digest(
            record.get("sha256"), [n for n, _ in photos], self.size, objective_table(self.first),
            objective_table(self.second), self.set_name,
        )  # fmt: skip
        knobs = KnobMethods(dynamic, dni, self.set_name)
        dynamic_key, dni_key = file_digest(dynamic), digest(file_digest(dynamic), file_digest(dni))
        jobs: list[tuple[str, float, Callable[[Tensor], Tensor], str]] = []
        for method, key in zip(METHODS, (dynamic_key, dynamic_key, dni_key)):
            for a in self.knobs():
                jobs.append((method, a, partial(knobs.output, method, a), key))
        for m, path in fixed.items():
            jobs.append(("fixed", m, partial(fixed_output, path), file_digest(path)))

        results: dict[str, list[dict]] = {k: [] for k in (*METHODS, "fixed")}
        for method, knob, make, model_key in tqdm(jobs, desc="scoring", disable=not self.progress):
            key = digest(context, method, knob, model_key)
            if key not in cache:
                per_photo = [scorer(make(x), x) for x in inputs]
                cache[key] = _mean_scores(per_photo)
                atomic_write(cache_path, lambda p: Path(p).write_text(json.dumps(cache)))
            results[method].append({"knob": knob, **cache[key]})
        self.perceptual_record = record
        return results

    # --- results ----------------------------------------------------------------------------
    def _results(self, scores: dict, photos, dynamic: Path, fixed: dict[float, Path], dni: Path) -> dict:
        results = {
            "recipe": self.recipe.name,
            "recipe_hash": self.recipe.hash,
            "tuned_set": self.set_name,
            "objectives": {"O_0": objective_table(self.first), "O_1": objective_table(self.second)},
            "photos": [name for name, _ in photos],
            "size": self.size,
            "quick": self.quick,
            "fixed_steps": self.fixed_steps or self.main_stage["steps"],
            "perceptual": self.perceptual_record,
            "networks": {
                "dynamic-net": str(dynamic),
                "dni": str(dni),
                "fixed": {f"{m:g}": str(p) for m, p in fixed.items()},
            },
            "points": scores,
            "table": summarize(scores, self.m_values),
            "seconds": self.seconds,
            "machine": machine(),
        }
        atomic_write(self.out / "results.json", lambda p: Path(p).write_text(json.dumps(results, indent=2)))
        return results


def objective_value(point: dict, m: float) -> float:
    """O_m of a scored output: the objectives are linear, so it is the mix of O_0 and O_1."""
    return (1.0 - m) * point["O_0"] + m * point["O_1"]


def summarize(scores: dict[str, list[dict]], m_values: Sequence[float]) -> list[dict]:
    """Per O_m: the fixed network's value, and each method's best over its knob, as a ratio to it.

    ``scores`` maps ``"fixed"`` (knob = m) and each of :data:`METHODS` to scored points.
    """
    table = []
    for m in m_values:
        fixed = [p for p in scores["fixed"] if p["knob"] == m]
        if not fixed:
            raise EvaluationError(f"no fixed network was scored for m={m:g}")
        fixed_value = objective_value(fixed[0], m)
        row = {"m": m, "fixed": fixed_value}
        for method in METHODS:
            best = min(scores[method], key=lambda p: objective_value(p, m))
            value = objective_value(best, m)
            row[method] = {"best": value, "ratio": value / fixed_value, "knob": best["knob"]}
        table.append(row)
    return table


def _mean_scores(per_photo: list[dict[str, dict[str, float]]]) -> dict[str, float]:
    n = len(per_photo)

    def mean(objective: str, term: str) -> float:
        return sum(s[objective][term] for s in per_photo) / n

    return {
        "O_0": mean("O_0", "loss"),
        "O_1": mean("O_1", "loss"),
        "content": mean("O_0", "content"),
        "style_0": mean("O_0", "style"),
        "style_1": mean("O_1", "style"),
    }
