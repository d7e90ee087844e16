"""Dynamic DCGAN: the model's contract, two-phase adversarial training, generate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import dynamicnet
from dynamicnet.cli.main import main
from dynamicnet.data.avatars import write_avatar_set
from dynamicnet.tasks.gan import model as gan
from dynamicnet.training.checkpoint import load_checkpoint
from dynamicnet.training.trainer import train


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    return write_avatar_set(tmp_path_factory.mktemp("faces"), 40, seed=3, workers=1, progress=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, faces, gan_recipe) -> Path:
    folder = tmp_path_factory.mktemp("gan-run")
    return train(gan_recipe(folder, faces), folder / "run", progress=False)


def test_latent_shapes_range_and_errors():
    model = gan.build(gan.default_config(latent=8, ngf=4)).eval().requires_grad_(False)
    z = torch.randn(3, 8)
    y = model(z, alpha=0.5)
    assert y.shape == (3, 3, 64, 64) and float(y.min()) >= 0 and float(y.max()) <= 1
    assert torch.equal(model(z[:, :, None, None], alpha=0.5), y)
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        model(torch.randn(3, 9))
    with pytest.raises(ValueError, match="floating-point"):
        model(torch.zeros(3, 8, dtype=torch.long))
    assert torch.equal(model.latents(5, seed=1)[:2], model.latents(2, seed=1))


def test_a_face_does_not_depend_on_its_batch(trained):
    model = dynamicnet.load(trained)
    z = model.latents(8, seed=0)
    for alpha in (0.0, 1.0, torch.linspace(0, 1, 8)):
        batch = model(z, alpha=alpha)
        for i in (0, 5):
            one = model(z[i : i + 1], alpha=alpha[i : i + 1] if isinstance(alpha, torch.Tensor) else alpha)
            assert torch.allclose(batch[i : i + 1], one, atol=1e-5)


def test_alpha_zero_is_the_main_generator_and_resume_is_exact(tmp_path, faces, trained, gan_recipe):
    recipe = gan_recipe(tmp_path, faces)
    run = tmp_path / "run"
    assert train(recipe, run, progress=False, stop_after_steps=2) is None  # inside phase 1
    assert train(recipe, run, resume=True, progress=False, stop_after_steps=1) is None  # phase 1 ends
    after_main = load_checkpoint(run / "checkpoint.pt")
    assert after_main["stage"] == 1 and after_main["step"] == 0
    assert train(recipe, run, resume=True, progress=False, stop_after_steps=1) is None  # inside phase 2
    final = train(recipe, run, resume=True, progress=False)

    resumed, uninterrupted = dynamicnet.load(final), dynamicnet.load(trained)
    for (name, a), b in zip(resumed.state_dict().items(), uninterrupted.state_dict().values()):
        assert torch.equal(a, b), name
    main_only = gan.build(resumed.config).eval()
    main_only.load_state_dict(after_main["model"])
    z = resumed.latents(4, seed=7)
    assert torch.equal(resumed(z, alpha=0.0), main_only(z, alpha=0.0))
    assert not torch.allclose(resumed(z, alpha=1.0), resumed(z, alpha=0.0))
    norms = [m for m in resumed.net.base.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(not torch.equal(m.running_var, torch.ones_like(m.running_var)) for m in norms)


def test_generate_writes_faces_sheet_and_animation(trained, tmp_path, capsys):
    out = tmp_path / "faces"
    gif = tmp_path / "morph.gif"
    args = ["generate", str(trained), "--n", "5", "--seed", "1", "--alpha", "0", "1", "--out", str(out)]
    assert main([*args, "--sheet", "--animate", str(gif)]) == 0
    assert sorted(p.name for p in (out / "alpha=1").iterdir())[-1] == "seed1_0004.png"
    with Image.open(out / "alpha=0" / "seed1_0000.png") as img:
        assert img.size == (64, 64)
    with Image.open(gif) as img:
        assert img.n_frames == 46 and img.size == (3 * 64, 2 * 64)
    first = torch.from_numpy(np.array(Image.open(out / "alpha=0" / "seed1_0002.png")))
    model = dynamicnet.load(trained)
    expected = (model(model.latents(3, seed=1), alpha=0.0)[2].permute(1, 2, 0) * 255).round()
    assert (first.float() - expected).abs().max() <= 1
    capsys.readouterr()
    assert main(["generate", str(trained), "--n", "0", "--out", str(out)]) == 2
    assert main(["generate", "starry-level", "--out", str(out)]) == 2
    assert "not a GAN" in capsys.readouterr().err
    # --model, as every other command takes it, gives the same faces; the model given twice is an error
    again = tmp_path / "again"
    assert (
        main(
            [
                "generate",
                "--model",
                str(trained),
                "--n",
                "5",
                "--seed",
                "1",
                "--alpha",
                "0",
                "--out",
                str(again),
            ]
        )
        == 0
    )
    assert (again / "alpha=0" / "seed1_0002.png").read_bytes() == (
        out / "alpha=0" / "seed1_0002.png"
    ).read_bytes()
    capsys.readouterr()
    assert main(["generate", str(trained), "-m", str(trained), "--out", str(again)]) == 2
    assert main(["generate", "--out", str(again)]) == 2
    assert capsys.readouterr().err.count("give the GAN model once") == 2


@pytest.mark.parametrize(
    ("main_subset", "message"),
    [("Purple_Hair", "unknown attribute 'Purple_Hair'"), ("Bald & Blond_Hair", "only 0 faces match")],
)
def test_bad_subsets_are_one_line_errors(tmp_path, faces, capsys, main_subset, message, gan_recipe):
    recipe = gan_recipe(tmp_path, faces, main=main_subset)
    assert main(["train", str(recipe), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_perceptual_override_is_refused_for_a_gan_recipe(tmp_path, faces, capsys, gan_recipe):
    recipe = gan_recipe(tmp_path, faces)
    args = ["train", str(recipe), "--out", str(tmp_path / "run"), "--perceptual", "random", "--no-progress"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "drop --perceptual" in err and err.count("\n") == 1


def test_a_diverging_gan_names_the_gan_settings_not_a_style_weight(tmp_path, faces, gan_recipe, monkeypatch):
    from dynamicnet.tasks.gan import training
    from dynamicnet.training.trainer import TrainingError

    stage = training.GanTraining._stage

    def diverging(self, *args, **kwargs):
        made = stage(self, *args, **kwargs)
        loss = made.loss
        made.loss = lambda model, batch: {**loss(model, batch), "loss": torch.tensor(float("nan"))}
        return made

    monkeypatch.setattr(training.GanTraining, "_stage", diverging)
    with pytest.raises(TrainingError, match="became nan") as caught:
        train(gan_recipe(tmp_path, faces), tmp_path / "run", progress=False)
    assert "style" not in str(caught.value) and "r1" in str(caught.value)


def test_adversary_settings_and_init_from_another_generator(tmp_path, faces, trained, capsys, gan_recipe):
    text = gan_recipe(tmp_path, faces).read_text()
    smoothed = tmp_path / "smoothed.toml"
    smoothed.write_text(text.replace("[main]", "[adversary]\nreal_label = 0.9\n[main]") + "r1 = 1.0\n")
    run = train(smoothed, tmp_path / "smoothed", progress=False)
    settings = dynamicnet.read_metadata(run)["objectives"]
    assert (settings["main"]["real_label"], settings["main"]["r1"]) == (0.9, 0.0)
    assert (settings["tune:default"]["real_label"], settings["tune:default"]["r1"]) == (0.9, 1.0)
    assert not torch.equal(  # the penalty and the soft labels change what the generator learns
        dynamicnet.load(run).state_dict()["net.base.layer0.0.weight"],
        dynamicnet.load(trained).state_dict()["net.base.layer0.0.weight"],
    )
    copied = tmp_path / "copied.toml"
    copied.write_text(
        text.replace(
            '[main]\nsubset = "Black_Hair | Brown_Hair"\nsteps = 3',
            f'[main]\nsubset = "Black_Hair | Brown_Hair"\nsteps = 0\ninit = "{trained}"',
        )
    )
    start = dynamicnet.load(train(copied, tmp_path / "copied", progress=False))
    source = dynamicnet.load(trained)
    for name, value in source.net.base.state_dict().items():
        assert torch.equal(start.net.base.state_dict()[name], value), name

    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("[main]", "[adversary]\nreal_label = 1.5\n[main]"))
    assert main(["train", str(bad), "--out", str(tmp_path / "bad"), "--no-progress"]) == 2
    assert "'adversary.real_label' must be a number in (0, 1]" in capsys.readouterr().err
    style = tmp_path / "init-style.toml"
    style.write_text(
        text.replace("[main]\n", f'[main]\ninit = "{dynamicnet.models.resolve_model("starry-level")}"\n')
    )
    assert main(["train", str(style), "--out", str(tmp_path / "s"), "--no-progress"]) == 2
    assert "is a 'style' model, not a 'gan' one" in capsys.readouterr().err
