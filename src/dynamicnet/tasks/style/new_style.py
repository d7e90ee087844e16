"""Your own painting as a style: a Dynamic-Net for it, fine-tuned from a shipped model.

A shipped model already knows how to stylise photos; a new painting only needs its own
palette and strokes. So the new model starts from every weight of the shipped model with
the same knob (``[model] init``): the main network learns the painting's low end of the
knob, the blocks its high end, for as many steps as the time budget allows on this machine.
The steps are set once, from a few timed steps, and written with the recipe: an interrupted
run continues with the same recipe and ends as an uninterrupted one would.

With several paintings the model has one block set per painting over a shared main network
(the multi variant), whose low end mixes all of them; ``alpha={"a": 0.5, "b": 0.3}`` mixes
their styles.

Everything lives in the user's folder (:func:`dynamicnet.models.home`): ``training/NAME/``
while the run is under way (recipe, paintings, checkpoints), then ``models/NAME.safetensors``
with its card ``NAME.md`` and contact sheet ``NAME.jpg``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ...data.folder import list_images
from ...data.images import atomic_save, open_image, read_image, resize_longer, tensor_to_pil, to_rgb8
from ...data.sheet import contact_sheet
from ...errors import DynamicNetError
from ...io.atomic import atomic_write
from ...io.model_file import save_model
from ...models import home, is_model_name, resolve_model, shipped_models, user_models_dir
from ...training.recipe import RecipeError

KNOB_SIDE = 768  # photos' longer side for the knob and border figures (the shipped cards' side)
SHEET_SIDE = 384
_MIN_MEASURED_SIDE = 160  # the border figure compares bands up to 64 px deep on every side
MIN_PAINTING_SIDE = 128  # a style target is seen at 512 px: below this there is little to learn
MAX_PAINTINGS = 8
MIN_PHOTOS = 4
# kept out of the training budget: timing steps and building the training (style targets),
# and the card's measurements at 768 px
_SETUP_SECONDS = 20
_MEASURE_SECONDS = 25


class NewStyleError(DynamicNetError, ValueError):
    """A new-style request that cannot be carried out (the message says why and what to do)."""


@dataclass(frozen=True)
class Knob:
    """What alpha moves in a new model: the shipped model it starts from and the two ends'
    objectives (without the painting, which fills ``style``)."""

    start: str
    low: dict
    high: dict
    meaning: str


KNOBS = {
    "level": Knob(
        "starry-level",
        {"style_size": 512, "style_weight": 2.0, "color_weight": 2.0},
        {"style_size": 512, "style_weight": 12.0},
        "a light touch that keeps the photo's colours (0) to the painting at full strength (1)",
    ),
    "scale": Knob(
        "elephants-scale",
        {"style_size": 128, "style_weight": 6.0},
        {"style_size": 768, "style_weight": 6.0},
        "the painting's strokes small (0) to large (1)",
    ),
}
MAIN_SHARE = 0.3  # of the training steps; the rest is split equally among the block sets
# as the shipped models were trained: at the scale users render at, with unscored context
# (192 px crops, not the shipped recipes' 256: twice the steps in the same time, which a
# short budget needs more than it needs larger windows)
TRAINING_DATA = {"crop": 192, "resize": 512, "context": 16, "batch": 4}


def set_names(paintings: list[Path]) -> list[str]:
    """One block-set name per painting, from its file name (``water_lilies``), unique."""
    names: list[str] = []
    for path in paintings:
        stem = re.sub(r"[^a-z0-9]+", "_", Path(path).stem.lower()).strip("_") or "painting"
        base = stem if stem[0].isalpha() else f"p_{stem}"
        name, n = base, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def training_dir(name: str) -> Path:
    return home() / "training" / name


def _repo_recipe(name: str) -> Path:
    """The shipped model's recipe in a source checkout (absent in an installed wheel)."""
    return Path(__file__).resolve().parents[4] / "recipes" / f"{name}.toml"


def default_photos(knob: str) -> tuple[Path, list[str]]:
    """The photos (and held-out names) of the recipe the knob's start model was made with."""
    from .. import load_recipe

    recipe_path = _repo_recipe(KNOBS[knob].start)
    if recipe_path.is_file():
        recipe = load_recipe(recipe_path)
        photos = recipe.resolve(recipe.data["data"]["photos"])
        if photos.is_dir():
            return photos.resolve(), list(recipe.data["data"].get("holdout", []))
    raise NewStyleError(
        "the shipped models' training photos are not on this machine: give --photos DIR, "
        "a folder of 20 or more of your photos"
    )


def check_name(name: str, force: bool = False) -> None:
    """A name the new model can take (a shipped name never; one of yours with ``force``)."""
    if not is_model_name(name):
        raise NewStyleError(f"--name {name!r}: use lower-case words joined by '-' (e.g. my-monet)")
    if name in {m.name for m in shipped_models()}:
        raise NewStyleError(f"--name {name}: a shipped model has that name; choose another")
    if (user_models_dir() / f"{name}.safetensors").exists() and not force:
        raise NewStyleError(f"--name {name}: you already have a model of that name; --force replaces it")


def _read_painting(path: Path) -> object:
    img = open_image(path)  # raises one line for a non-image, a damaged or a huge file
    if min(img.size) < MIN_PAINTING_SIDE:
        raise NewStyleError(
            f"{path}: {img.width}x{img.height} pixels is too small for a style; "
            f"give a painting of at least {MIN_PAINTING_SIDE} px a side"
        )
    img = to_rgb8(img)
    return resize_longer(img, 1024) if max(img.size) > 1024 else img


def _photo_split(photos: Path | None, knob: str) -> tuple[Path, list[str]]:
    if photos is None:
        return default_photos(knob)
    photos = Path(photos).expanduser()
    if not photos.is_dir():
        raise NewStyleError(f"--photos {photos}: not a folder")
    files, _ = list_images(photos)
    if len(files) < MIN_PHOTOS:
        raise NewStyleError(
            f"--photos {photos}: {len(files)} images; give at least {MIN_PHOTOS} (20 or more is better)"
        )
    # a few held out for the card's figures, when there are enough to spare
    held = [str(f.relative_to(photos)) for f in files[:3]] if len(files) >= 8 else []
    return photos.resolve(), held


def recipe_data(
    name: str, knob: str, sets: list[str], photos: Path, holdout: list[str], steps: int, perceptual: str
) -> dict:
    """The recipe of a new model: its paintings are ``paintings/SET.png`` beside it."""
    k = KNOBS[knob]
    paintings = [f"paintings/{s}.png" for s in sets]
    if len(sets) == 1:
        low = {**k.low, "style": paintings[0]}
    else:  # the shared low end mixes every painting
        size = k.low["style_size"]
        low = {key: v for key, v in k.low.items() if key != "style_size"}
        low["styles"] = [{"image": p, "size": size, "weight": 1 / len(sets)} for p in paintings]
    objectives = {"low": low, **{f"high_{s}": {**k.high, "style": p} for s, p in zip(sets, paintings)}}
    main = round(steps * MAIN_SHARE)
    each = max(1, (steps - main) // len(sets))
    return {
        "name": name,
        "task": "style",
        "seed": 0,
        "perceptual": perceptual,
        "data": {"photos": str(photos), "holdout": holdout, **TRAINING_DATA},
        "train": {"precision": "bf16", "checkpoint_every": 10, "log_every": 5, "fp16_weights": True},
        "model": {
            "variant": "single" if len(sets) == 1 else "multi",
            "architecture": "fast",
            "init": k.start,
        },
        "objectives": objectives,
        "main": {"objective": "low", "steps": main, "lr": 1e-3},
        "tune": [
            {"set": s if len(sets) > 1 else "default", "objective": f"high_{s}", "steps": each, "lr": 1e-3}
            for s in sets
        ],
    }


def _parse(data: dict, folder: Path):
    from .. import get_task

    try:
        return get_task("style").recipe.parse(data, folder / "recipe.toml")
    except RecipeError as err:
        raise NewStyleError(str(err)) from err


@dataclass(frozen=True)
class Request:
    """What the user asked for, as recorded in ``training/NAME/request.json``: a rerun with the
    same request continues the run; another one needs ``force``."""

    knob: str
    minutes: float
    paintings: tuple[str, ...]  # sha256 of each painting file
    photos: str | None
    perceptual: str

    def to_dict(self) -> dict:
        return {**self.__dict__, "paintings": list(self.paintings)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _prepare(
    name: str,
    paintings: list[Path],
    knob: str,
    minutes: float,
    photos: Path | None,
    perceptual: str,
    force: bool,
    say: Callable[[str], None],
) -> tuple[Path, dict]:
    """The run folder and recipe data: an unfinished run of the same request is continued,
    otherwise a new one is set up (paintings copied, steps timed)."""
    shas = tuple(_sha256(p) for p in paintings)
    where = str(Path(photos).expanduser().resolve()) if photos else None
    request = Request(knob, float(minutes), shas, where, perceptual)
    folder = training_dir(name)
    record = folder / "request.json"
    if record.is_file():
        saved = json.loads(record.read_text(encoding="utf-8"))
        if saved["request"] == request.to_dict() and not force:
            say(f"continuing the unfinished training of {name}")
            return folder, saved["recipe"]
        if not force:
            raise NewStyleError(
                f"{folder} holds an unfinished training of {name} with other paintings or settings: "
                "rerun it with the same ones to continue, or pass --force to start over"
            )
    images = [_read_painting(p) for p in paintings]  # every painting checked before anything is written
    photo_dir, holdout = _photo_split(photos, knob)
    sets = set_names(paintings)
    if folder.exists():  # an unfinished run replaced (force), or one that never got its request written
        shutil.rmtree(folder)
    try:
        (folder / "paintings").mkdir(parents=True)
        for s, img in zip(sets, images):
            atomic_save(img, folder / "paintings" / f"{s}.png")
        say("timing a few training steps on this machine ...")
        from ...training.trainer import time_training

        probe = _parse(recipe_data(name, knob, sets, photo_dir, holdout, 10, perceptual), folder)
        timing = time_training(probe)
        per_step = timing.step_s
        budget = max(0.0, minutes * 60 - _SETUP_SECONDS - _MEASURE_SECONDS)
        steps = max(len(sets) + 1, timing.steps_within(budget))
        data = recipe_data(name, knob, sets, photo_dir, holdout, steps, perceptual)
        _parse(data, folder)
        saved = {"request": request.to_dict(), "recipe": data, "seconds_per_step": per_step}
        atomic_write(record, lambda tmp: Path(tmp).write_text(json.dumps(saved, indent=2), encoding="utf-8"))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # nothing half set up is left to continue
        raise
    say(f"{steps} training steps at about {per_step:.1f} s each")
    return folder, data


def new_style(
    paintings: list[str | Path],
    name: str,
    *,
    knob: str = "level",
    minutes: float = 10.0,
    photos: str | Path | None = None,
    perceptual: str = "auto",
    force: bool = False,
    progress: bool = True,
    on_step: Callable[[int, int], None] | None = None,
    say: Callable[[str], None] = print,
) -> Path:
    """Make a Dynamic-Net for ``paintings`` (one, or several for one block set each) in about
    ``minutes`` on this machine, and save it as the user's model ``name``; returns its file.

    Run again with the same arguments after an interruption, it continues where it stopped.
    ``force`` replaces a model of that name, or an unfinished run with other settings.
    ``perceptual`` names the perceptual weights (see ``dynamicnet weights list``).
    """
    from ...training.trainer import CHECKPOINT, train

    paintings = [Path(p).expanduser() for p in paintings]
    if not paintings or len(paintings) > MAX_PAINTINGS:
        raise NewStyleError(f"give 1 to {MAX_PAINTINGS} paintings, got {len(paintings)}")
    if knob not in KNOBS:
        raise NewStyleError(f"--knob must be one of {', '.join(KNOBS)}, got {knob!r}")
    if not 1 <= minutes <= 24 * 60:
        raise NewStyleError(f"--minutes must be 1 to 1440, got {minutes:g}")
    check_name(name, force)
    for p in paintings:
        if not p.is_file():
            raise NewStyleError(f"{p}: no such file")
    began = time.perf_counter()
    folder, data = _prepare(name, paintings, knob, minutes, photos, perceptual, force, say)
    recipe = _parse(data, folder)
    bar = None
    if progress and on_step is None:
        from tqdm import tqdm

        bar = tqdm(desc=name, unit="step", dynamic_ncols=True)

        def on_step(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

    try:
        resume = (folder / CHECKPOINT).exists()
        trained = train(recipe, folder, resume=resume, progress=False, on_step=on_step)
    finally:
        if bar is not None:
            bar.close()
    if trained is None:
        raise NewStyleError(f"training of {name} stopped early; rerun the same command to continue")
    out = finish(name, folder, knob, [p.name for p in paintings], began, say)
    shutil.rmtree(folder, ignore_errors=True)
    return out


def _training_seconds(log: Path) -> float:
    """Seconds of optimisation the run's log accounts for, over every invocation."""
    total, last = 0.0, {}
    for line in log.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if "s_per_step" in rec:
            before = last.get(rec["stage"], 0)
            total += rec["s_per_step"] * (rec["step"] - before)
            last[rec["stage"]] = rec["step"]
        elif rec.get("event") == "start":
            last = {}
    return total


def finish(name: str, folder: Path, knob: str, painting_names: list[str], began: float, say) -> Path:
    """Measure the trained model, write its card and contact sheet, then the model file
    itself (last: a model is listed only once all three are there)."""
    from ... import load
    from ...evaluation.visible import measure_visible
    from ...inference import Renderer

    model = load(folder / "model.safetensors")
    sets = model.set_names
    single = sets == ["default"]
    label = " + ".join(Path(n).stem for n in painting_names)
    model.config = dict(
        model.config,
        name=name,
        description=f"{label}: {KNOBS[knob].meaning}" + ("" if single else ", one slider per painting"),
        render_context=_start_context(KNOBS[knob].start),
        new_style={"knob": knob, "paintings": painting_names},
    )
    recipe = model.config["recipe"]
    photo_dir = Path(recipe["data"]["photos"])
    held = recipe["data"].get("holdout") or []
    files = [photo_dir / h for h in held] or list_images(photo_dir)[0][:3]
    say(f"measuring the knob and the borders on {len(files[:3])} {'held-out ' if held else ''}photos ...")
    renderer = Renderer(model)
    figures = {}
    for s in sets:

        def render(photo, a, s=s):  # one painting's set alone
            return renderer(photo, a if single else {s: a})

        figures[s] = measure_visible(render, [_at_side(f, KNOB_SIDE) for f in files[:3]], (0.0, 1.0))
    mixes = [*({s: 1.0} for s in sets), dict.fromkeys(sets, 1 / len(sets))]
    alphas = [0.0, 0.5, 1.0] if single else [0.0, *mixes]
    rows = []
    for f in files[:3]:
        photo = read_image(f, max_side=SHEET_SIDE)
        rows.append([tensor_to_pil(photo)] + [tensor_to_pil(renderer(photo, a).clamp(0, 1)) for a in alphas])
    heads = ["photo", *(_alpha_label(a) for a in alphas)]
    out_dir = user_models_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    sheet = out_dir / f"{name}.jpg"
    atomic_save(contact_sheet(rows, heads, cell=256).convert("RGB"), sheet, quality=88)
    card = out_dir / f"{name}.md"
    model.config["new_style"]["figures"] = {s: f.to_dict() for s, f in figures.items()}
    seconds = time.perf_counter() - began  # setting up, training and measuring
    text = model_card(model.config, figures, _training_seconds(folder / "log.jsonl"), seconds, bool(held))
    atomic_write(card, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    try:
        path = save_model(model, out_dir / f"{name}.safetensors", dtype=torch.float16)
    except BaseException:
        sheet.unlink(missing_ok=True)
        card.unlink(missing_ok=True)
        raise
    say(f"saved {path} (card: {card})")
    return path


def _at_side(path: Path, side: int) -> torch.Tensor:
    """A photo with its longer side ``side``: small photos are enlarged, as the figures need
    the same scale for every model, and room for the border bands on the shorter side."""
    x = read_image(path, max_side=side)
    scale = max(side / max(x.shape[-2:]), _MIN_MEASURED_SIDE / min(x.shape[-2:]))
    if scale > 1:
        x = torch.nn.functional.interpolate(x[None], scale_factor=scale, mode="bicubic")[0].clamp(0, 1)
    return x


def _alpha_label(alpha) -> str:
    if isinstance(alpha, dict):
        return ", ".join(f"{k} {v:.2g}" for k, v in alpha.items())
    return f"alpha={alpha:g}"


def model_card(config: dict, figures: dict, trained_s: float, wall_s: float, held_out: bool) -> str:
    """The card of a user's model: what it was made from, how, and what its knob does."""
    name, recipe = config["name"], config["recipe"]
    knob = KNOBS[config["new_style"]["knob"]]
    sets = list(figures)
    use = (
        f"`dynamicnet stylize IMG --model {name} --alpha 0 0.5 1 --out DIR`"
        if sets == ["default"]
        else f"`dynamicnet stylize IMG --model {name} --alpha {','.join(f'{s}=0.5' for s in sets)} --out DIR`"
    )
    lines = [
        f"# {name}",
        "",
        config["description"],
        "",
        f'- Load: `dynamicnet.load("{name}")`; {use}',
        f"- Paintings: {', '.join(f'`{p}`' for p in config['new_style']['paintings'])}"
        + ("" if sets == ["default"] else f" (block sets {', '.join(sets)})"),
        f"- Knob: {knob.meaning}; every weight started from the shipped `{knob.start}`",
        "",
        "## Objectives",
        "",
        "| stage | objective | style size (px) | content weight | style weight | colour weight |",
        "|---|---|---|---|---|---|",
    ]
    for stage, table in config["objectives"].items():
        size = ", ".join(str(s["size"]) for s in table["styles"])
        lines.append(
            f"| {stage} | {table['name']} | {size} | {table['content_weight']:g} | "
            f"{table['style_weight']:g} | {table.get('color_weight', 0):g} |"
        )
    steps = config["training"]["steps"]
    lines += [
        "",
        "## Training",
        "",
        "- Steps: "
        + "; ".join(f"{k} {v}" for k, v in steps.items())
        + f"; {recipe['data']['crop']} px crops of photos scaled to {recipe['data']['resize']} px, "
        f"batch {recipe['data']['batch']}",
        f"- Photos: `{recipe['data']['photos']}`",
        f"- Time: {trained_s / 60:.1f} min of training steps, {wall_s / 60:.1f} min in all "
        "(this machine, the last invocation)",
        "",
        "## What you see: the knob and the borders",
        "",
        f"Measured on {'held-out' if held_out else 'training'} photos at {KNOB_SIDE} px (longer side), "
        "mean absolute difference in steps of 1/255:",
        "",
        "| set | knob span | alpha 0 vs photo | alpha 1 vs photo | monotone | largest step share | "
        "border (mean / worst) |",
        "|---|---|---|---|---|---|---|",
    ]
    for s, f in figures.items():
        lines.append(
            f"| {s} | {f.span:.1f} | {f.low_from_photo:.1f} | {f.high_from_photo:.1f} | "
            f"{'yes' if f.monotone else 'no'} | {f.largest_step_share:.0%} | "
            f"{f.border:.1f} / {f.worst_border:.1f} |"
        )
    lines += ["", f"![{name} on photos]({name}.jpg)", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class Progress:
    """Where an unfinished run stands (for a caller that watches it from outside, the demo)."""

    name: str
    done: int  # optimisation steps, over every stage
    total: int
    stage: str | None  # the stage of the latest logged step
    seconds_left: float | None  # at the latest logged speed (the timed speed before any)


def training_progress(name: str) -> Progress | None:
    """How far the unfinished run of ``name`` has come (None if there is none)."""
    folder = training_dir(name)
    try:
        saved = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    recipe = saved["recipe"]
    stages = {"main": recipe["main"]["steps"]}
    stages.update({f"tune:{t['set']}": t["steps"] for t in recipe["tune"]})
    total, per_step, stage, done = sum(stages.values()), saved.get("seconds_per_step"), None, 0
    log = folder / "log.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines() if log.is_file() else []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:  # a line being written
            continue
        if rec.get("stage") in stages and "s_per_step" in rec:
            stage, per_step = rec["stage"], rec["s_per_step"]
            names = list(stages)
            done = sum(stages[n] for n in names[: names.index(stage)]) + rec["step"]
    left = (total - done) * per_step if per_step is not None else None
    return Progress(name, done, total, stage, left)


def preview_model(name: str):
    """The unfinished run's model as of its latest checkpoint (None before the first one):
    a preview of what the finished model will look like."""
    from ...training.checkpoint import load_latest
    from ...training.trainer import CHECKPOINT
    from . import model as style

    folder = training_dir(name)
    state, _, _ = load_latest(folder / CHECKPOINT)
    if state is None:
        return None
    recipe = json.loads((folder / "request.json").read_text(encoding="utf-8"))["recipe"]
    variant = recipe["model"]["variant"]
    sets = [t["set"] for t in recipe["tune"]]
    config = style.default_config(variant, sets, style.RECIPE_ARCHITECTURES[recipe["model"]["architecture"]])
    model = style.build(config)
    model.load_state_dict(state["model"])
    model.config["render_context"] = _start_context(recipe["model"]["init"])
    return model.eval()


def _start_context(start: str) -> int:
    from ...io.model_file import read_metadata

    return int(read_metadata(resolve_model(start)).get("render_context", 0))
