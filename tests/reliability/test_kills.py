"""Training killed with SIGKILL at random moments, again and again, ends with the same
weights as an uninterrupted run; a damaged latest checkpoint falls back to the previous one."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from dynamicnet.cli.main import main
from dynamicnet.training.checkpoint import load_checkpoint, previous_path
from dynamicnet.training.trainer import train

# Every other kill lands inside a checkpoint write, the others at a random moment; the style
# run (one process start per kill dominates the time) takes the most.
KILLS = {"style": 6, "completion": 4, "gan": 4}


def _progress(ckpt: Path) -> tuple[int, int]:
    for candidate in (ckpt, previous_path(ckpt)):
        try:
            state = load_checkpoint(candidate)
            return state["stage"], state["step"]
        except Exception:  # noqa: BLE001 - absent or being replaced right now
            continue
    return (-1, -1)


@pytest.mark.parametrize("task", ["style", "completion", "gan"])
def test_random_kills_resume_to_the_same_weights(
    task, recipe, photo_dir, completion_recipe, gan_recipe, tmp_path, capsys
):
    if task == "style":
        text = recipe.read_text().replace("steps = 3", "steps = 12")
        recipe.write_text(text.replace("checkpoint_every = 2", "checkpoint_every = 1"))
    elif task == "completion":  # killed in the adversarial phase: discriminator and holes resume too
        recipe = completion_recipe(tmp_path, photo_dir, steps=(2, 14))
    else:  # killed in the block's phase: a fresh discriminator, its noise counter, R1
        from dynamicnet.data.avatars import write_avatar_set

        faces = write_avatar_set(tmp_path / "faces", 40, seed=3, workers=1, progress=False)
        recipe = gan_recipe(tmp_path, faces, main="~Blond_Hair", steps=(2, 14))
        recipe.write_text(recipe.read_text() + "r1 = 1.0\n[adversary]\nreal_label = 0.9\n")
    out = tmp_path / "killed"
    ckpt = out / "checkpoint.pt"
    cmd = [
        sys.executable,
        "-m",
        "dynamicnet.cli.main",
        "train",
        str(recipe),
        "--out",
        str(out),
        "--no-progress",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}  # same float sums as here
    rng = random.Random(0)
    kills, stale_seen, last = 0, 0, (-1, -1)
    while kills < KILLS[task] and not (out / "model.safetensors").exists():
        args = cmd if kills == 0 else [*cmd, "--resume"]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 120
        while proc.poll() is None and _progress(ckpt) <= last and time.monotonic() < deadline:
            time.sleep(0.005)  # wait for one more step, so every kill lands in new work
        if kills % 2:  # every other kill: the moment a checkpoint is being written
            while proc.poll() is None and not list(out.glob(".*.tmp")) and time.monotonic() < deadline:
                time.sleep(0.0005)
        else:  # the others: a random moment
            time.sleep(rng.uniform(0, 0.05))
        proc.kill()
        proc.wait()
        if proc.returncode == 0:
            break
        kills += 1
        stale_seen += len(list(out.glob(".*.tmp")))
        last = _progress(ckpt)
    print(f"{kills} kills; {stale_seen} left a half-written checkpoint behind")
    assert kills == KILLS[task], f"training finished before it could be killed {KILLS[task]} times"
    assert stale_seen >= 1, "no kill landed inside a checkpoint write"
    resumed = load_file(str(train(recipe, out, resume=True, progress=False)))
    assert not list(out.glob(".*.tmp")), "a resumed run cleans up what killed writes left"
    straight = load_file(str(train(recipe, tmp_path / "straight", progress=False)))
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key


def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(recipe, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(recipe, out, progress=False, stop_after_steps=4) is None
    ckpt = out / "checkpoint.pt"
    assert previous_path(ckpt).exists()
    ckpt.write_bytes(ckpt.read_bytes()[:100])  # a copy cut short
    capsys.readouterr()
    assert main(["train", str(recipe), "--out", str(out), "--resume", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: checkpoint.pt is damaged" in err and "resuming from checkpoint.prev.pt" in err
    straight = load_file(str(train(recipe, tmp_path / "straight", progress=False)))
    resumed = load_file(str(out / "model.safetensors"))
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key
    previous_path(ckpt).write_bytes(b"junk")
    ckpt.write_bytes(b"junk")
    assert main(["train", str(recipe), "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and "move" in err and len(err.strip().splitlines()) == 1
