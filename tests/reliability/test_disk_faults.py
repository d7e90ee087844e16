"""A full disk or an output folder that cannot exist: one-line errors, no partial files, and
training keeps its last checkpoint."""

from __future__ import annotations

import errno

import torch
from PIL import Image

from dynamicnet.cli.main import main
from dynamicnet.training.checkpoint import load_checkpoint


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _half_then_full(self, fp, *args, **kwargs):
    with open(fp, "wb") as fh:
        fh.write(b"\x89PNG half")  # something lands on disk before the device fills
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_while_writing_images(
    monkeypatch, tiny_model_file, tiny_completion_file, photo_dir, tmp_path, capsys
):
    photo = next(photo_dir.glob("*.jpg"))
    monkeypatch.setattr(Image.Image, "save", _half_then_full)
    styled, filled = tmp_path / "styled", tmp_path / "filled"
    for out, args in (
        (styled, ["stylize", str(photo), "--model", str(tiny_model_file)]),
        (filled, ["complete", str(photo), "--box", "2,2,8,8", "--model", str(tiny_completion_file)]),
    ):
        code, err = main([*args, "--out", str(out)]), capsys.readouterr().err
        assert code == 2 and "No space left on device" in err and len(err.strip().splitlines()) == 1, err
        assert not list(out.iterdir()), "a partial file was left behind"


def test_an_output_folder_that_cannot_exist(tiny_model_file, photo_dir, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    photo = next(photo_dir.glob("*.jpg"))
    for args in (
        ["stylize", str(photo), "--model", str(tiny_model_file), "--out", str(blocker / "out")],
        ["export", "onnx", str(tiny_model_file), "--out", str(blocker / "m.onnx")],
    ):
        code, err = main(args), capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_full_disk_while_checkpointing_keeps_the_last_checkpoint(monkeypatch, recipe, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(recipe), "--out", str(out), "--stop-after-steps", "2", "--no-progress"]) == 0
    kept = load_checkpoint(out / "checkpoint.pt")
    monkeypatch.setattr(torch, "save", _disk_full)
    capsys.readouterr()
    assert main(["train", str(recipe), "--out", str(out), "--resume", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and len(err.strip().splitlines()) == 1, err
    assert not list(out.glob(".*.tmp"))
    assert load_checkpoint(out / "checkpoint.pt")["step"] == kept["step"]
    monkeypatch.undo()
    assert main(["train", str(recipe), "--out", str(out), "--resume", "--no-progress"]) == 0
    assert (out / "model.safetensors").exists()
