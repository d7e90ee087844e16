"""Two-phase training: exact resume, frozen base, bad files, variants, precision, torchrun.

SIGKILL during training: tests/reliability/test_kills.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import dynamicnet
from dynamicnet.tasks.style import model as style
from dynamicnet.training.checkpoint import load_checkpoint
from dynamicnet.training.recipe import RecipeError
from dynamicnet.training.trainer import TrainingError, train


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def test_resume_ends_with_the_same_weights(recipe, tmp_path):
    straight = train(recipe, tmp_path / "straight", progress=False)
    out = tmp_path / "interrupted"
    assert train(recipe, out, stop_after_steps=2, progress=False) is None  # mid main stage
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 2
    assert train(recipe, out, resume=True, stop_after_steps=2, progress=False) is None  # crosses stages
    resumed = train(recipe, out, resume=True, progress=False)
    a, b = weights(straight), weights(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_phase_two_leaves_the_main_network_untouched(recipe, tmp_path):
    out = tmp_path / "run"
    train(recipe, out, stop_after_steps=3, progress=False)  # exactly the main stage
    after_main = load_checkpoint(out / "checkpoint.pt")
    assert after_main["stage"] == 1
    final = weights(train(recipe, out, resume=True, progress=False))
    for key, value in after_main["model"].items():
        if key.startswith("net.base."):
            assert torch.equal(final[key], value), key
        if key.startswith("net.blocks."):
            assert not torch.equal(final[key], value), f"{key} was not trained"


def test_model_init_starts_every_weight_from_another_model(recipe, recipe_factory, tmp_path):
    source = train(recipe, tmp_path / "source", progress=False)
    text = recipe.read_text()
    copied = tmp_path / "copied.toml"
    copied.write_text(
        text.replace('variant = "single"', f'variant = "single"\ninit = "{source}"').replace(
            "steps = 3", "steps = 0"
        )
    )
    run = train(copied, tmp_path / "copied", progress=False)
    made, start = weights(run), weights(source)
    assert made.keys() == start.keys()
    for key, value in start.items():  # nothing trained: blocks and main network copied
        assert torch.equal(made[key], value), key
    meta = dynamicnet.read_metadata(run)["initialised_from"]
    assert (meta["file"], meta["name"], len(meta["sha256"])) == ("model.safetensors", "tiny", 64)

    dual = recipe_factory("dual.toml", variant="dual")
    dual.write_text(dual.read_text().replace('variant = "dual"', f'variant = "dual"\ninit = "{source}"'))
    with pytest.raises(RecipeError, match=r"has the block sets \['default'\], this recipe \['high', 'low'\]"):
        train(dual, tmp_path / "dual", progress=False)


def test_refuses_to_overwrite_and_checks_recipe(recipe, tmp_path):
    out = tmp_path / "run"
    train(recipe, out, stop_after_steps=1, progress=False)
    with pytest.raises(TrainingError, match="--resume"):
        train(recipe, out, progress=False)
    recipe.write_text(recipe.read_text().replace("seed = 3", "seed = 4"))
    with pytest.raises(TrainingError, match="different version"):
        train(recipe, out, resume=True, progress=False)


def test_unreadable_files_are_skipped_and_counted(recipe, photo_dir, tmp_path, capsys):
    good = (photo_dir / "p0.jpg").read_bytes()
    (photo_dir / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (photo_dir / "text.png").write_text("not an image")
    (photo_dir / "notes.txt").write_text("ignored: not an image extension")
    recipe.write_text(recipe.read_text().replace("steps = 3", "steps = 6"))
    path = train(recipe, tmp_path / "run", progress=False)
    meta = dynamicnet.read_metadata(path)
    assert meta["training"]["unreadable_files_skipped"] == 2
    out = capsys.readouterr().out
    assert "skipped 2 unreadable training files" in out
    assert "ignored 1 non-image files" in out


def test_bf16_precision_trains(recipe, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("dynamicnet.training.trainer.fast_bf16", lambda device: False)
    path = train(recipe, tmp_path / "run", precision="bf16", progress=False)
    # emulated bf16 is legal but slow (12x per step on an AVX2 CPU): the user hears of it
    assert "no native bf16" in capsys.readouterr().err
    model = dynamicnet.load(path)
    assert dynamicnet.read_metadata(path)["training"]["precision"] == "bf16"
    with torch.no_grad():
        y = model(torch.rand(1, 3, 20, 24), alpha=0.5)
    assert torch.isfinite(y).all()


def test_auto_precision_is_chosen_once_and_kept_on_resume(recipe, tmp_path, monkeypatch):
    out = tmp_path / "run"
    monkeypatch.setattr("dynamicnet.inference.precision.fast_bf16", lambda device: True)
    assert train(recipe, out, precision="auto", stop_after_steps=1, progress=False) is None
    # resumed where bf16 is emulated: it goes on in bf16, as it started, so the weights match
    monkeypatch.setattr("dynamicnet.inference.precision.fast_bf16", lambda device: False)
    path = train(recipe, out, precision="auto", resume=True, progress=False)
    assert dynamicnet.read_metadata(path)["training"]["precision"] == "bf16"


def test_native_bf16_trains_without_a_warning(recipe, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("dynamicnet.training.trainer.fast_bf16", lambda device: True)
    assert train(recipe, tmp_path / "run", precision="bf16", stop_after_steps=1, progress=False) is None
    assert "no native bf16" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variant", "sets", "unit"),
    [("dual", ["high", "low"], -1.0), ("multi", ["starry", "wave"], {"wave": 1.0})],
)
def test_variants_train_every_set(recipe_factory, tmp_path, variant, sets, unit):
    recipe = recipe_factory(variant=variant, sets=sets, steps=(2, 2))
    path = train(recipe, tmp_path / "run", progress=False)
    model = dynamicnet.load(path)
    meta = dynamicnet.read_metadata(path)
    assert model.set_names == sets and meta["variant"] == variant
    assert list(meta["objectives"]) == ["main", *[f"tune:{s}" for s in sets]]
    x = torch.rand(1, 3, 24, 24)
    with torch.no_grad():
        assert not torch.allclose(model(x, alpha=unit), model(x, alpha=0.0))


def test_recipe_errors(recipe_factory, tmp_path):
    bad = recipe_factory(variant="single", sets=["high", "low"])
    with pytest.raises(RecipeError, match="single-variant"):
        train(bad, tmp_path / "a", progress=False)
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [unclosed")
    with pytest.raises(RecipeError, match="not valid TOML"):
        train(broken, tmp_path / "b", progress=False)


def test_torchrun_two_processes_matches_one_process(recipe, tmp_path):
    """2 processes x batch 1 see the same samples as 1 process x batch 2, and DDP averages grads."""
    recipe.write_text(recipe.read_text().replace("batch = 2", "batch = 1"))
    single_recipe = tmp_path / "single.toml"
    single_recipe.write_text(recipe.read_text().replace("batch = 1", "batch = 2"))
    single = train(single_recipe, tmp_path / "single", progress=False)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "dynamicnet.cli.main", "train", str(recipe), "--out", str(tmp_path / "ddp"),
        "--no-progress", "--device", "cpu",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    path = tmp_path / "ddp" / "model.safetensors"
    assert dynamicnet.read_metadata(path)["training"]["processes"] == 2
    # Adam turns noise-sized gradients (e.g. conv biases in front of InstanceNorm) into full
    # steps, so weights differ by float noise; compare what the networks compute instead:
    # the two runs must agree far better than either agrees with the untrained network.
    torch.manual_seed(3)
    untrained = style.build(style.default_config()).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        one, two = dynamicnet.load(single), dynamicnet.load(path)
        for alpha in (0.0, 1.0):
            gap = (one(x, alpha=alpha) - two(x, alpha=alpha)).abs().mean()
            trained = (one(x, alpha=alpha) - untrained(x)).abs().mean()
            assert gap < 0.1 * trained, (alpha, gap, trained)
    log = [json.loads(line) for line in (tmp_path / "ddp" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if r.get("stage") == "main"] == [1, 2, 3]
    assert log[0]["event"] == "start" and log[0]["processes"] == 2


def test_a_time_budget_counts_each_image_decoded_once_when_the_folder_is_kept():
    from dynamicnet.training.trainer import StepTiming

    kept = StepTiming(step_s=1.0, decode_s=0.5, images=10, batch=4)
    assert kept.steps_within(100) == 95  # ten images decoded once (5 s), then 1 s a step
    assert kept.steps_within(6) == 2  # too short to decode them all: every batch is new
    every_time = StepTiming(step_s=1.0, decode_s=0.5, images=float("inf"), batch=4)
    assert every_time.steps_within(100) == 33
