"""One trainer for both phases and any task.

Phase 1 trains the main network on O_0 (alpha = 0, no block runs). Phase 2 freezes it
and trains each block set at its unit alpha on its own objective. Checkpoints are
atomic and carry everything needed to continue exactly: weights, optimizer state and
the position in the stage (the data order is a function of the position). Under
``torchrun`` the same code runs DistributedDataParallel (gloo on CPU, nccl on GPU).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..data.folder import StepSampler
from ..devices import resolve_device
from ..errors import DynamicNetError
from ..inference.precision import PRECISIONS, fast_bf16, resolve_precision
from ..io.model_file import save_model
from ..perceptual.sources import SOURCES, describe, perceptual_identity
from ..tasks import TaskTraining, get_task, load_recipe
from .checkpoint import load_latest, previous_path, remove_stale_temporaries, save_checkpoint
from .recipe import Recipe
from .stages import Stage

CHECKPOINT = "checkpoint.pt"
MODEL_FILE = "model.safetensors"


class TrainingError(DynamicNetError, RuntimeError):
    """A training run that cannot start or continue (the message says why and what to do)."""


@dataclass
class RunContext:
    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _init_distributed(device: str | None) -> RunContext:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    chosen = resolve_device(device)
    if world <= 1:
        return RunContext(device=chosen)
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if chosen.type == "cuda":
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
        backend = "nccl"
    else:
        dev = torch.device("cpu")
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return RunContext(rank=rank, world=world, device=dev)


def _select_trainable(model: torch.nn.Module, stage: Stage) -> list[torch.nn.Parameter]:
    net = model.net
    net.requires_grad_(False)
    if stage.trainable == "main":
        net.unfreeze_base()
    else:
        net.freeze_base()
        for p in net.block_parameters(stage.trainable):
            p.requires_grad_(True)
    model.train()
    return [p for p in model.parameters() if p.requires_grad]


def _autocast(precision: str, device: torch.device):
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _checkpoint_source(ckpt: dict) -> str | None:
    source = (ckpt.get("perceptual") or {}).get("source")
    return source if source in SOURCES else None


def build_task(recipe: Recipe, device: torch.device, perceptual: str | None = None) -> TaskTraining:
    """What a recipe's task trains: model, data and stages (the trainer itself is generic)."""
    return get_task(recipe.task).training(recipe, device, perceptual)


def train(
    recipe_path: str | Path | Recipe,
    out: str | Path | None = None,
    *,
    resume: bool = False,
    precision: str | None = None,
    device: str | None = None,
    stop_after_steps: int | None = None,
    progress: bool = True,
    perceptual: str | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> Path | None:
    """Run (or continue) a recipe (a file or a :class:`Recipe`); returns the model file, or None
    if stopped early.

    ``stop_after_steps`` ends this invocation after that many optimisation steps with a
    checkpoint written, as an interruption would; ``resume=True`` continues from it.
    ``perceptual`` overrides the recipe's perceptual weights (a source name or a file).
    ``on_step(done, total)`` hears of every optimisation step, counted over all stages (a
    caller's own progress display, with ``progress=False``).
    """
    recipe = recipe_path if isinstance(recipe_path, Recipe) else load_recipe(recipe_path)
    out_dir = Path(out) if out is not None else Path("runs") / recipe.name
    ckpt_path = out_dir / CHECKPOINT
    settings = recipe.data["train"]
    precision = precision or settings["precision"]
    if precision not in PRECISIONS:
        raise TrainingError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if stop_after_steps is not None and stop_after_steps < 1:
        raise TrainingError("--stop-after-steps must be at least 1")

    ckpt = None
    if ckpt_path.exists() or previous_path(ckpt_path).exists():
        if not resume:
            raise TrainingError(f"{ckpt_path} exists: pass --resume to continue it, or choose another --out")
        remove_stale_temporaries(out_dir)  # left by a write that was killed
        ckpt, used, problem = load_latest(ckpt_path)
        if ckpt is None:
            raise TrainingError(f"{problem}; move {out_dir} away to start over")
        if problem:
            print(f"warning: {problem}; resuming from {used.name} instead", file=sys.stderr)
        if ckpt["recipe_hash"] != recipe.hash:
            raise TrainingError(
                f"{ckpt_path} was made by a different version of {recipe.path.name}; "
                "restore that recipe or train into another --out"
            )

    ctx = _init_distributed(device)
    if precision == "auto":  # a resumed run keeps the format it started in: resume stays exact
        precision = (ckpt or {}).get("precision") or resolve_precision("auto", ctx.device)
    try:
        if ckpt is not None and perceptual is None and recipe.data.get("perceptual") == "auto":
            perceptual = _checkpoint_source(ckpt)  # resume with what the run started with
        task = build_task(recipe, ctx.device, perceptual)  # checks photos, styles, weights first
        model = task.model
        stages = task.stages()
        created = not out_dir.exists()
        out_dir.mkdir(parents=True, exist_ok=True)
        first_stage, first_step, bad_files = 0, 0, set()
        if ckpt is not None:
            before, now = ckpt.get("perceptual") or {}, task.perceptual_record
            if now is not None and perceptual_identity(before) != perceptual_identity(now):
                raise TrainingError(
                    f"{ckpt_path} was trained with perceptual weights {describe(before)}, "
                    f"not {describe(now)}; resume with --perceptual {before.get('source', '?')}"
                )
            model.load_state_dict(ckpt["model"])
            first_stage, first_step = ckpt["stage"], ckpt["step"]
            bad_files = set(ckpt.get("bad_files", []))
            done = out_dir / MODEL_FILE
            if first_stage >= len(stages) and done.exists():
                if ctx.is_main:
                    print(f"{recipe.name} is already trained: {done}")
                return done
            if ctx.is_main:
                where = stages[first_stage].name if first_stage < len(stages) else "the end"
                print(f"resuming {recipe.name} at {where}, step {first_step}")
        elif ctx.is_main and resume:
            print(f"no checkpoint in {out_dir}: starting from the beginning")
        if ctx.is_main and task.perceptual_record is not None:
            print(f"perceptual weights: {describe(task.perceptual_record)}")
        if ctx.is_main and task.ignored:
            print(f"ignored {task.ignored} non-image files in the photo folder")
        if ctx.is_main and precision == "bf16" and not fast_bf16(ctx.device):
            print(
                f"warning: this {ctx.device.type} has no native bf16 (AVX512-BF16, AMX or a bf16 GPU): "
                "bf16 autocast is emulated and can be many times slower; --precision fp32 is faster here",
                file=sys.stderr,
            )

        run = _Run(
            task, stages, ctx, precision, recipe, ckpt_path, out_dir / "log.jsonl", bad_files,
            stop_after_steps, progress, on_step,
        )  # fmt: skip
        run.log({"event": "start", "perceptual": task.perceptual_record, "processes": ctx.world})
        for index in range(first_stage, len(stages)):
            start = first_step if index == first_stage else 0
            resumed = ckpt if (ckpt is not None and index == first_stage) else {}
            finished = _run_stage(run, index, start, resumed.get("optimizer"), resumed.get("stage_state"))
            if not finished or (run.out_of_budget and index + 1 < len(stages)):
                if ctx.is_main:
                    print(f"stopped after {stop_after_steps} steps; continue with --resume")
                return None

        if not ctx.is_main:
            return None
        config = dict(model.config)
        config.update(task.metadata(stages))
        config["training"] = {
            "precision": precision,
            "processes": ctx.world,
            "steps": {s.name: s.steps for s in stages},
            "unreadable_files_skipped": len(bad_files),
        }
        model.config = config
        fp16 = bool(settings.get("fp16_weights"))
        path = save_model(model, out_dir / MODEL_FILE, dtype=torch.float16 if fp16 else None)
        if bad_files:
            print(f"skipped {len(bad_files)} unreadable training files (listed in {run.log_path})")
        print(f"wrote {path}")
        return path
    except BaseException:
        # a run that failed before its first checkpoint leaves nothing behind to resume
        if ctx.is_main and locals().get("created") and not ckpt_path.exists():
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        if ctx.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


@dataclass(frozen=True)
class StepTiming:
    """How long a recipe's training takes on this machine, from a few timed steps."""

    step_s: float  # one optimisation step of the slowest stage, its batch already decoded
    decode_s: float  # reading and preparing one training image
    images: float  # images decoded at most once each (kept in memory); inf: decoded every time
    batch: int

    def steps_within(self, seconds: float) -> int:
        """The most optimisation steps that fit in ``seconds``, decoding included."""
        fresh = seconds / (self.step_s + self.batch * self.decode_s)  # every batch decoded anew
        if fresh * self.batch <= self.images:
            return max(0, int(fresh))
        return max(0, int((seconds - self.images * self.decode_s) / self.step_s))


def time_training(
    recipe: Recipe, steps: int = 3, *, device: str | None = None, precision: str | None = None
) -> StepTiming:
    """Time ``recipe``'s training here without writing anything: ``steps`` optimisation steps
    of its last stage (block stages run the main network too, so they are the slower ones)
    after a warm-up step, and the decoding of their images. Decoding is timed apart because a
    small photo folder is decoded once and then kept: the first steps are slower than the
    rest. For sizing a run to a time budget before its recipe is fixed.
    """
    chosen = resolve_device(device)
    precision = resolve_precision(precision or recipe.data["train"]["precision"], chosen)
    task = build_task(recipe, chosen)
    stage = task.stages()[-1]
    params = _select_trainable(task.model, stage)
    optimizer = torch.optim.Adam(params, lr=stage.lr, betas=stage.betas)
    dataset = stage.dataset if stage.dataset is not None else task.dataset
    batch = recipe.data["data"]["batch"]
    began = time.perf_counter()
    batches = [
        torch.stack([dataset[(0, step * batch + i)][0] for i in range(batch)]) for step in range(steps + 1)
    ]
    decode_s = (time.perf_counter() - began) / ((steps + 1) * batch)
    times = []
    for images in batches:
        began = time.perf_counter()
        with _autocast(precision, chosen):
            loss = stage.loss(task.model, images.to(chosen))["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - began)
    images = len(dataset) if getattr(dataset, "cache", False) else math.inf
    return StepTiming(statistics.median(times[1:]), decode_s, images, batch)


@dataclass
class _Run:
    """What the stages of one training invocation share."""

    task: object
    stages: list[Stage]
    ctx: RunContext
    precision: str
    recipe: Recipe
    ckpt_path: Path
    log_path: Path
    bad_files: set[str]
    budget: int | None  # optimisation steps left in this invocation (None: no limit)
    progress: bool
    on_step: Callable[[int, int], None] | None = None

    def stepped(self, index: int, step: int) -> None:
        if self.on_step is not None and self.ctx.is_main:
            total = sum(s.steps for s in self.stages)
            self.on_step(sum(s.steps for s in self.stages[:index]) + step, total)

    @property
    def out_of_budget(self) -> bool:
        return self.budget is not None and self.budget <= 0

    def log(self, record: dict) -> None:
        if self.ctx.is_main:
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")

    def checkpoint(
        self, next_stage: int, next_step: int, optimizer_state: dict | None, stage_state: dict | None = None
    ) -> None:
        if self.ctx.is_main:
            state = {
                "recipe_hash": self.recipe.hash,
                "stage": next_stage,
                "step": next_step,
                "model": self.task.model.state_dict(),
                "optimizer": optimizer_state,
                "stage_state": stage_state,
                "bad_files": sorted(self.bad_files),
                "perceptual": self.task.perceptual_record,
                "precision": self.precision,
            }
            save_checkpoint(state, self.ckpt_path)


def _run_stage(
    run: _Run, index: int, start: int, opt_state: dict | None, stage_state: dict | None = None
) -> bool:
    """Train one stage from ``start``; False if the step budget ran out first."""
    stage, ctx, model = run.stages[index], run.ctx, run.task.model
    settings = run.recipe.data["train"]
    params = _select_trainable(model, stage)
    optimizer = torch.optim.Adam(params, lr=stage.lr, betas=stage.betas)
    if opt_state is not None:
        optimizer.load_state_dict(opt_state)
    if stage.state is not None and stage_state is not None:
        stage.state.load_state_dict(stage_state)

    def extra() -> dict | None:
        return stage.state.state_dict() if stage.state is not None else None

    wrapped = DistributedDataParallel(model) if ctx.world > 1 else model
    data = run.recipe.data["data"]
    loader = DataLoader(
        stage.dataset if stage.dataset is not None else run.task.dataset,
        batch_size=data["batch"],
        sampler=StepSampler(index, start, stage.steps, data["batch"], ctx.rank, ctx.world),
        num_workers=data["workers"],
    )
    bar = tqdm(
        total=stage.steps, initial=start, desc=stage.name, disable=not (run.progress and ctx.is_main),
        dynamic_ncols=True,
    )  # fmt: skip
    step = logged_step = start
    logged_time = time.perf_counter()
    for images, skipped in loader:
        images = images.to(ctx.device, non_blocking=True)
        with _autocast(run.precision, ctx.device):
            terms = stage.loss(wrapped, images)
        loss = terms["loss"]
        if not math.isfinite(loss.item()):
            kept = f"the last checkpoint ({run.ckpt_path}) is intact; " if run.ckpt_path.exists() else ""
            raise TrainingError(
                f"loss became {loss.item()} at {stage.name} step {step}; {kept}{run.task.diverged_hint}"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        for name in (n for names in skipped for n in names.split("\n") if n):
            if name not in run.bad_files:
                run.bad_files.add(name)
                if ctx.is_main:
                    tqdm.write(f"skipped unreadable file: {name}")
                run.log({"stage": stage.name, "step": step, "skipped_file": name})
        values = {k: float(v.detach()) for k, v in terms.items()}
        bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)
        bar.update(1)
        run.stepped(index, step)
        if step % settings["log_every"] == 0 or step == stage.steps:
            now = time.perf_counter()  # seconds per step since the previous log line
            seconds = (now - logged_time) / (step - logged_step)
            logged_step, logged_time = step, now
            run.log({"stage": stage.name, "step": step, **values, "s_per_step": seconds})
        if run.budget is not None:
            run.budget -= 1
        if step == stage.steps:
            break
        if run.out_of_budget:
            run.checkpoint(index, step, optimizer.state_dict(), extra())
            bar.close()
            return False
        if step % settings["checkpoint_every"] == 0:
            run.checkpoint(index, step, optimizer.state_dict(), extra())
    bar.close()
    if stage.finish is not None:
        stage.finish(model)
    run.checkpoint(index + 1, 0, None)
    return True
