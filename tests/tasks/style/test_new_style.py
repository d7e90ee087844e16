"""dynamicnet new-style: a user's painting becomes a model of theirs, with tiny budgets here."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import dynamicnet
from dynamicnet.cli.main import main
from dynamicnet.models import user_models
from dynamicnet.tasks.style import new_style as ns


@pytest.fixture
def tiny(monkeypatch, photo_dir, user_home):
    """Tiny crops, style targets and measurements: a run is the shipped start model plus a
    few 32 px steps."""
    small = {k: dataclasses.replace(v, low={**v.low, "style_size": 64}, high={**v.high, "style_size": 64})
             for k, v in ns.KNOBS.items()}  # fmt: skip
    monkeypatch.setattr(ns, "KNOBS", small)
    monkeypatch.setattr(ns, "TRAINING_DATA", {"crop": 32, "resize": 36, "batch": 2})
    monkeypatch.setattr(ns, "KNOB_SIDE", 160)
    monkeypatch.setattr(ns, "SHEET_SIDE", 48)
    monkeypatch.setattr(ns, "_MEASURE_SECONDS", 60)  # a one-minute budget: one step per stage
    return {
        "photos": photo_dir,
        "minutes": 1,
        "perceptual": "random",
        "progress": False,
        "say": lambda _: None,
    }


@pytest.fixture
def paintings(tmp_path, photo_factory):
    return [
        photo_factory(tmp_path / f"{n}.png", size=(160, 128), seed=s)
        for n, s in (("Water Lilies", 5), ("9", 6))
    ]


def test_a_painting_becomes_a_listed_model_and_an_interrupted_run_ends_the_same(tiny, paintings, user_home):
    path = ns.new_style(paintings[:1], "whole", **tiny)
    assert path == user_home / "models" / "whole.safetensors"
    assert [m.name for m in user_models()] == ["whole"] and user_models()[0].source == "yours"
    card = path.with_suffix(".md").read_text()
    assert "Water Lilies.png" in card and "knob span" in card and "starry-level" in card
    assert path.with_suffix(".jpg").is_file()
    assert not (user_home / "training" / "whole").exists()  # the run's folder is cleaned up
    model = dynamicnet.load("whole")
    assert model.context == dynamicnet.load("starry-level").context  # renders as its start model does
    x = torch.rand(1, 3, 40, 48)
    with torch.no_grad():
        assert not torch.allclose(model(x, alpha=0), model(x, alpha=1))

    def interrupt(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ns.new_style(paintings[:1], "cut", **{**tiny, "on_step": interrupt})
    assert not (user_home / "models" / "cut.safetensors").exists()
    progress = ns.training_progress("cut")  # what the demo shows of a run under way
    assert (progress.done, progress.total, progress.stage) == (1, 2, "main") and progress.seconds_left > 0
    preview = ns.preview_model("cut")  # from the checkpoint at the end of the main stage
    with torch.no_grad():
        assert preview(x, alpha=0.5).shape == x.shape and preview.context == model.context
    assert ns.training_progress("whole") is None and ns.preview_model("whole") is None
    said = []
    ns.new_style(paintings[:1], "cut", **{**tiny, "say": said.append})
    assert any("continuing" in line for line in said)
    for (k, a), b in zip(model.state_dict().items(), dynamicnet.load("cut").state_dict().values()):
        assert torch.equal(a, b), k


def test_bad_requests_fail_in_one_line_and_two_paintings_make_two_sets(
    tiny, paintings, tmp_path, capsys, user_home
):
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("not a picture")
    tiny_painting = tmp_path / "small.png"
    from tests.conftest import make_photo

    make_photo(tiny_painting, size=(60, 50))
    cases = [
        ([str(not_image)], "not an image"),
        ([str(tiny_painting)], "too small"),
        ([str(tmp_path / "missing.jpg")], "no such file"),
    ]
    base = ["--photos", str(tiny["photos"]), "--minutes", "1", "--perceptual", "random", "--no-progress"]
    for argv, message in cases:
        assert main(["new-style", *argv, "--name", "x", *base]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert main(["new-style", str(paintings[0]), "--name", "starry-level", *base]) == 2
    assert "shipped model" in capsys.readouterr().err
    assert main(["new-style", str(paintings[0]), "--name", "Bad Name", *base]) == 2
    assert not (user_home / "models").exists() and not (user_home / "training").exists()
    # a name that exists needs --force
    (user_home / "models").mkdir(parents=True)
    (user_home / "models" / "mine.safetensors").write_bytes(b"an older model")
    assert main(["new-style", str(paintings[1]), "--name", "mine", *base]) == 2
    assert "--force" in capsys.readouterr().err
    # replaced by a model of two paintings: one block set each, mixed as the card and the command say
    assert main(["new-style", str(paintings[0]), str(paintings[1]), "--name", "mine", *base, "--force"]) == 0
    assert "is ready" in capsys.readouterr().out
    model = dynamicnet.load("mine")
    assert model.config["new_style"]["paintings"] == ["Water Lilies.png", "9.png"]
    assert model.set_names == ["water_lilies", "p_9"]
    mix = "water_lilies=0.5,p_9=0.5"
    assert f"--alpha {mix}" in (user_home / "models" / "mine.md").read_text()
    photo = str(next(tiny["photos"].glob("*.jpg")))
    assert main(["stylize", photo, "--model", "mine", "--alpha", mix, "--out", str(tmp_path / "out")]) == 0
    x = torch.rand(1, 3, 40, 48)
    with torch.no_grad():
        assert not torch.allclose(model(x, alpha={"water_lilies": 0.5, "p_9": 0.3}), model(x, alpha=0))
    assert main(["models"]) == 0
    mine = [line for line in capsys.readouterr().out.splitlines() if line.startswith("mine ")]
    assert len(mine) == 1 and "  yours  " in mine[0]
