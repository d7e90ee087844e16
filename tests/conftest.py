"""Shared fixtures: tiny images and recipes made on the fly (no network, no ../shared)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

torch.set_num_threads(2)
# the user's own models and trainings: never the real user folder (servers started by tests
# inherit this too)
os.environ["DYNAMICNET_HOME"] = tempfile.mkdtemp(prefix="dynamicnet-home-")


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch) -> Path:
    """An empty user folder (``DYNAMICNET_HOME``) for this test."""
    home = tmp_path / "home"
    monkeypatch.setenv("DYNAMICNET_HOME", str(home))
    return home


def make_photo(path: Path, size=(48, 40), seed: int = 0) -> Path:
    """A smooth random colour image with some structure, saved as JPEG or PNG by extension."""
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(xx * rng.uniform(3, 9)), np.cos(yy * rng.uniform(3, 9)), xx * yy], -1)
    arr = ((base - base.min()) / (np.ptp(base) + 1e-6) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, "RGB").save(path)
    return path


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    for i in range(5):
        make_photo(folder / f"p{i}.jpg", size=(48 + 4 * i, 40), seed=i)
    make_photo(folder / "nested" / "deeper.png", size=(44, 44), seed=9)
    return folder


@pytest.fixture
def style_image(tmp_path: Path) -> Path:
    return make_photo(tmp_path / "style.png", size=(40, 40), seed=42)


def write_recipe(
    path: Path,
    photos: Path,
    style: Path,
    *,
    variant="single",
    sets=None,
    steps=(3, 3),
    extra="",
    tune_extra="",
) -> Path:
    sets = sets or {"single": ["default"], "dual": ["high", "low"]}.get(variant)
    tunes = "\n".join(
        f'[[tune]]\nset = "{s}"\nobjective = "o{i + 1}"\nsteps = {steps[1]}\nlr = 1e-3\n{tune_extra}'
        for i, s in enumerate(sets)
    )
    objectives = "\n".join(
        f'[objectives.o{i}]\nstyle = "{style}"\nstyle_size = {24 + 8 * i}\nstyle_weight = {1 + 2 * i}\n'
        for i in range(len(sets) + 1)
    )
    path.write_text(
        f'name = "tiny"\nseed = 3\nperceptual = "random"\n{extra}\n'
        f'[model]\nvariant = "{variant}"\n'
        f'[data]\nphotos = "{photos}"\ncrop = 32\nresize = 36\nbatch = 2\n'
        f"[train]\ncheckpoint_every = 2\nlog_every = 1\n"
        f"{objectives}\n"
        f'[main]\nobjective = "o0"\nsteps = {steps[0]}\nlr = 1e-3\n'
        f"{tunes}"
    )
    return path


@pytest.fixture
def recipe(tmp_path: Path, photo_dir: Path, style_image: Path) -> Path:
    return write_recipe(tmp_path / "tiny.toml", photo_dir, style_image)


@pytest.fixture
def recipe_factory(tmp_path: Path, photo_dir: Path, style_image: Path):
    """write_recipe bound to this test's photos and style image."""

    def factory(name="tiny.toml", **kwargs) -> Path:
        return write_recipe(tmp_path / name, photo_dir, style_image, **kwargs)

    return factory


@pytest.fixture
def photo_factory():
    return make_photo


@pytest.fixture(scope="session")
def tiny_recipe_in():
    """For session- and module-scoped fixtures: photos, a style image and a tiny recipe in a folder."""

    def make(folder: Path, **kwargs) -> Path:
        photos = folder / "photos"
        for i in range(5):
            make_photo(photos / f"p{i}.jpg", size=(48 + 4 * i, 40), seed=i)
        style = make_photo(folder / "style.png", size=(40, 40), seed=42)
        return write_recipe(folder / "tiny.toml", photos, style, **kwargs)

    return make


@pytest.fixture(scope="session")
def trained_style_models(tmp_path_factory) -> list:
    """Style models that went through training (a tiny recipe, a few seconds).

    Tests of rendering accuracy run on these, and on every shipped model.
    """
    import dynamicnet
    from dynamicnet.models import shipped_models
    from dynamicnet.training.trainer import train

    root = tmp_path_factory.mktemp("trained")
    for i in range(4):
        make_photo(root / "photos" / f"p{i}.jpg", size=(48, 40), seed=i)
    style = make_photo(root / "style.png", size=(40, 40), seed=42)
    recipe = write_recipe(root / "tiny.toml", root / "photos", style, steps=(12, 12))
    tiny = dynamicnet.load(train(recipe, root / "run", progress=False))
    return [tiny, *(dynamicnet.load(m.name) for m in shipped_models() if m.task == "style")]


def random_style_model(variant: str = "single", sets=None, seed: int = 0):
    """A style model whose tuning blocks have random (non-trivial) weights, in eval mode."""
    from dynamicnet.tasks.style import model as style

    torch.manual_seed(seed)
    model = style.build(style.default_config(variant, sets))
    with torch.no_grad():  # fresh blocks may be near zero; make every block matter
        for p in model.net.block_parameters():
            p.normal_(0, 0.05)
    return model.eval()


@pytest.fixture
def make_model():
    return random_style_model


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory) -> Path:
    """A saved single-variant style model with random blocks."""
    import dynamicnet

    return dynamicnet.save(random_style_model(), tmp_path_factory.mktemp("model") / "tiny.safetensors")


@pytest.fixture(scope="session")
def tiny_gan_file(tmp_path_factory) -> Path:
    """A saved Dynamic DCGAN (latent 8, ngf 4) with weights large enough to draw visible
    patterns, and a block that visibly changes them at alpha 1."""
    import torch

    import dynamicnet
    from dynamicnet.tasks.gan import model as gan

    torch.manual_seed(0)
    model = gan.build(gan.default_config(latent=8, ngf=4))
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.15)
        for p in model.net.block_parameters():
            p.normal_(0, 0.3)
    model.config.update(
        name="faces", description="tiny random faces",
        recipe={"main": {"subset": "Black_Hair"}, "tune": [{"set": "default", "subset": "Blond_Hair"}]},
    )  # fmt: skip
    return dynamicnet.save(model.eval(), tmp_path_factory.mktemp("gan") / "faces.safetensors")


@pytest.fixture(scope="session")
def tiny_completion_file(tmp_path_factory) -> Path:
    """A saved completion model (width 8) whose tuning blocks visibly change the fill."""
    import dynamicnet
    from dynamicnet.tasks.completion import model as completion

    torch.manual_seed(0)
    model = completion.build(completion.default_config(width=8))
    with torch.no_grad():
        for p in model.net.block_parameters():
            p.normal_(0, 0.2)
    model.config["description"] = "tiny random completion model"
    return dynamicnet.save(model, tmp_path_factory.mktemp("completion") / "fill.safetensors")


COMPLETION_RECIPE = """
name = "tiny-completion"
task = "completion"
seed = 1
perceptual = "random"
[data]
photos = "{photos}"
crop = 32
batch = 2
mask = "{mask}"
[model]
width = 8
ndf = 8
[train]
checkpoint_every = 1
log_every = 1
[objectives.smooth]
l1 = 1.0
[objectives.sharp]
l1 = 1.0
perceptual = 0.5
adversarial = 0.1
[main]
objective = "smooth"
steps = {main}
[[tune]]
objective = "sharp"
steps = {tune}
"""


def write_completion_recipe(folder: Path, photos: Path, mask: str = "box", steps=(3, 3)) -> Path:
    path = folder / "completion.toml"
    path.write_text(COMPLETION_RECIPE.format(photos=photos, mask=mask, main=steps[0], tune=steps[1]))
    return path


@pytest.fixture(scope="session")
def completion_recipe():
    """``write(folder, photos, mask="box", steps=(3, 3))``: a tiny completion recipe with an
    adversarial and perceptual block objective."""
    return write_completion_recipe


GAN_RECIPE = """
name = "tiny-gan"
task = "gan"
seed = 2
[data]
faces = "{faces}"
batch = 4
[model]
latent = 8
ngf = 4
ndf = 4
[train]
checkpoint_every = 1
log_every = 1
[main]
subset = "{main}"
steps = {main_steps}
[[tune]]
subset = "{tune}"
steps = {tune_steps}
"""


def write_gan_recipe(
    folder: Path, faces: Path, main: str = "Black_Hair | Brown_Hair", tune: str = "Blond_Hair", steps=(3, 3)
) -> Path:
    path = folder / "gan.toml"
    text = GAN_RECIPE.format(faces=faces, main=main, tune=tune, main_steps=steps[0], tune_steps=steps[1])
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def gan_recipe():
    """``write(folder, faces, main=..., tune=..., steps=(3, 3))``: a tiny Dynamic DCGAN recipe
    (latent 8, ngf 4) whose [[tune]] table comes last, so lines appended to it belong to it."""
    return write_gan_recipe


@pytest.fixture(scope="module")
def one_torch_thread():
    """Small images: one torch thread is as fast, and much faster when another process shares the cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
