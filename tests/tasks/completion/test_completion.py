"""Dynamic completion: masks, the model's contract, recipes, two-phase training with resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import dynamicnet
from dynamicnet.data.masks import MaskError, centre_square, check_mask, draw_mask, parse_box, read_mask
from dynamicnet.tasks import load_recipe
from dynamicnet.tasks.completion import model as completion
from dynamicnet.tasks.completion.training import CompletionTraining
from dynamicnet.training.checkpoint import load_checkpoint
from dynamicnet.training.recipe import RecipeError
from dynamicnet.training.trainer import train


@pytest.fixture(scope="module")
def photos(tmp_path_factory, tiny_recipe_in) -> Path:
    return tiny_recipe_in(tmp_path_factory.mktemp("photos")).parent / "photos"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, photos, completion_recipe) -> Path:
    folder = tmp_path_factory.mktemp("completion-run")
    return train(completion_recipe(folder, photos), folder / "run", progress=False)


def random_model(width: int = 8) -> completion.CompletionModel:
    torch.manual_seed(0)
    model = completion.build(completion.default_config(width)).eval().requires_grad_(False)
    for p in model.net.block_parameters():
        p.normal_(0, 0.2)
    return model


# --- masks ---------------------------------------------------------------------------------
def test_mask_kinds_are_binary_and_seeded():
    assert centre_square(8, 8).sum() == 16 and centre_square(8, 8)[0, 2:6, 2:6].all()
    for kind in ("centre", "box", "free"):
        a = draw_mask(kind, np.random.default_rng(3), 40, 30)
        b = draw_mask(kind, np.random.default_rng(3), 40, 30)
        assert a.shape == (1, 40, 30) and torch.equal(a, b)
        assert set(a.unique().tolist()) == {0.0, 1.0}
    with pytest.raises(MaskError, match="unknown mask kind"):
        draw_mask("circle", np.random.default_rng(0), 8, 8)


def test_box_and_mask_image_parsing(tmp_path):
    m = parse_box("2,1,3,4", h=8, w=10)
    assert m.sum() == 12 and m[0, 1:5, 2:5].all()
    for text, message in [("2,1,3", "four whole numbers"), ("a,b,c,d", "four whole numbers"),
                          ("0,0,0,4", "at least 1 pixel"), ("8,0,3,3", "leaves the 10x8 image"),
                          ("0,0,10,8", "covers the whole 10x8 image")]:  # fmt: skip
        with pytest.raises(MaskError, match=message):
            parse_box(text, h=8, w=10)
    grey = np.zeros((8, 10), np.uint8)
    grey[2:4, 3:7] = 255
    Image.fromarray(grey).save(tmp_path / "m.png")
    assert read_mask(tmp_path / "m.png", 8, 10).sum() == 8
    with pytest.raises(MaskError, match="is 10x8 but the image is 12x8"):
        read_mask(tmp_path / "m.png", 8, 12)
    rgba = np.zeros((8, 10, 4), np.uint8)
    rgba[5:, :, 3] = 255  # painted (opaque) = missing
    Image.fromarray(rgba, "RGBA").save(tmp_path / "painted.png")
    assert read_mask(tmp_path / "painted.png", 8, 10).sum() == 30
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(MaskError, match="mask"):
        read_mask(tmp_path / "text.png", 8, 10)


@pytest.mark.parametrize(
    "mask, message",
    [
        (torch.zeros(1, 8, 8), "no pixel as missing"),
        (torch.ones(1, 8, 8), "every pixel as missing"),
        (torch.zeros(1, 8, 7), "is 7x8 but the image is 8x8"),
        (torch.zeros(3, 8, 8), r"shape \(N, 1, H, W\)"),
        (torch.full((1, 8, 8), 2.0), r"in \[0, 1\]"),
        (torch.full((1, 8, 8), float("nan")), r"in \[0, 1\]"),
    ],
)
def test_mask_validation_messages(mask, message):
    with pytest.raises(MaskError, match=message):
        check_mask(mask, 8, 8)


# --- model ---------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(32, 32), (37, 50), (1, 3), (5, 130)])
def test_known_pixels_pass_through_at_any_size(size):
    model = random_model()
    h, w = size
    x = torch.rand(2, 3, h, w)
    mask = torch.zeros(2, 1, h, w)
    mask[..., : (h + 1) // 2, : (w + 1) // 2] = 1
    for alpha in (0.0, 1.0, torch.rand(1, 1, h, w)):
        y = model(x, alpha=alpha, mask=mask)
        assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
        known = mask.expand_as(x) == 0
        assert torch.equal(y[known], x[known])
        assert not torch.equal(y[~known], x[~known])


def test_model_contract_errors_and_batch_independence():
    model = random_model()
    x = torch.rand(3, 3, 24, 24)
    mask = centre_square(24, 24)
    with pytest.raises(ValueError, match="needs mask="):
        model(x)
    with pytest.raises(MaskError, match="no pixel as missing"):
        model(x, mask=torch.zeros(1, 24, 24))
    with pytest.raises(MaskError, match="is 20x24"):
        model(x, mask=torch.ones(1, 24, 20))
    with pytest.raises(ValueError, match="floating-point"):
        model((x * 255).byte(), mask=mask)
    batch = model(x, alpha=0.7, mask=mask)  # one (1, H, W) mask serves the whole batch
    assert torch.allclose(batch[1:2], model(x[1:2], alpha=0.7, mask=mask[None]), atol=1e-6)


def test_alpha_zero_is_the_main_network():
    model = random_model()
    main_only = completion.build(model.config).eval()
    main_only.net.base.load_state_dict(model.net.base.state_dict())
    x, mask = torch.rand(1, 3, 16, 16), centre_square(16, 16)
    assert torch.equal(model(x, alpha=0.0, mask=mask), main_only(x, alpha=0.0, mask=mask))
    assert not torch.equal(model(x, alpha=1.0, mask=mask), model(x, alpha=0.0, mask=mask))


# --- recipes and training ------------------------------------------------------------------
def test_recipe_mistakes(tmp_path, photos, completion_recipe):
    good = completion_recipe(tmp_path, photos).read_text()
    cases = [
        (good.replace('photos = "', 'faces = "x"\nphotos = "'), "either 'photos'"),
        (good.replace("adversarial = 0.1", "adversarial = -1"), "must be a finite number >= 0"),
        (good.replace("adversarial = 0.1", "sharpness = 1"), "unknown key 'sharpness'"),
        (
            good.replace("l1 = 1.0\n[objectives.sharp]", "l1 = 0\n[objectives.sharp]"),
            "every term has weight 0",
        ),
        (good.replace('mask = "box"', 'mask = "ring"'), "'data.mask' must be one of"),
        (good + '\n[adversary]\npatches = "known"\n', "'adversary.patches' must be one of"),
    ]
    for i, (text, message) in enumerate(cases):
        path = tmp_path / f"bad{i}.toml"
        path.write_text(text)
        with pytest.raises(RecipeError, match=message):
            CompletionTraining(load_recipe(path), torch.device("cpu"))


def test_training_resumes_exactly_and_the_block_changes_the_fill(
    tmp_path, photos, trained, completion_recipe
):
    recipe = completion_recipe(tmp_path, photos)
    run = tmp_path / "run"
    assert train(recipe, run, progress=False, stop_after_steps=2) is None  # inside phase 1
    assert train(recipe, run, resume=True, progress=False, stop_after_steps=2) is None  # inside phase 2
    state = load_checkpoint(run / "checkpoint.pt")
    assert state["stage"] == 1 and state["stage_state"]["calls"] == 1 and "net" in state["stage_state"]
    final = train(recipe, run, resume=True, progress=False)
    resumed, uninterrupted = dynamicnet.load(final), dynamicnet.load(trained)
    for (name, a), b in zip(resumed.state_dict().items(), uninterrupted.state_dict().values()):
        assert torch.equal(a, b), name
    assert resumed.task == "completion" and resumed.config["holes"] == {"mask": "box", "hole": 0.5}
    x, mask = torch.rand(1, 3, 32, 32), centre_square(32, 32)
    assert not torch.equal(resumed(x, alpha=1.0, mask=mask), resumed(x, alpha=0.0, mask=mask))


# --- command line --------------------------------------------------------------------------
def test_complete_writes_each_alpha_and_keeps_known_pixels(trained, tmp_path, capsys, monkeypatch):
    import dynamicnet.tasks.completion.model as completion_model
    from dynamicnet.cli.main import main

    photo = np.random.default_rng(0).integers(0, 256, (30, 41, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "in.png")
    out = tmp_path / "out"
    args = ["complete", str(tmp_path / "in.png"), "--box", "5,4,12,10", "--model", str(trained)]
    assert main([*args, "--alpha", "0", "1", "--out", str(out), "--sheet"]) == 0
    for name in ("in_alpha=0.png", "in_alpha=1.png", "sheet.png"):
        assert (out / name).is_file()
    done = np.asarray(Image.open(out / "in_alpha=1.png"))
    known = np.ones((30, 41), bool)
    known[4:14, 5:17] = False
    assert np.array_equal(done[known], photo[known]) and not np.array_equal(done[~known], photo[~known])
    capsys.readouterr()
    assert main([*args, "--auto", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "auto alpha" in printed and (out / "in_auto.png").is_file()
    for score, explained in ((1.2, True), (0.1, False)):  # ring-detail's "too little detail" is above 1
        scores = torch.full((1, 11), score)
        monkeypatch.setattr(completion_model, "auto_alpha", lambda *a, s=scores, **k: (torch.ones(1), s))
        assert main([*args, "--auto", "--out", str(out)]) == 0
        assert ("above 1: the fill keeps under 80 % of the detail" in capsys.readouterr().out) == explained
    monkeypatch.undo()
    assert main([*args, "--alpha", "1", "--work-side", "16", "--out", str(tmp_path / "small")]) == 0
    small = np.asarray(Image.open(tmp_path / "small" / "in_alpha=1.png"))
    assert np.array_equal(small[known], photo[known]) and not np.array_equal(small[~known], done[~known])
    for side in ("-3", "2"):
        assert main([*args, "--work-side", side, "--out", str(out)]) == 2
        assert "--work-side must be 0" in capsys.readouterr().err
    assert main([*args, "--criterion", "ring", "--alpha", "0", "--out", str(out)]) == 2
    assert "give --auto with it" in capsys.readouterr().err  # not a criterion silently unused
    assert main([*args, "--alpha", "1", "1", "--out", str(tmp_path / "twice")]) == 0
    assert capsys.readouterr().out.count("in_alpha=1.png") == 1  # each alpha once


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--box", "0,0,41,30"], "covers the whole 41x30 image"),
        (["--box", "30,0,20,5"], "leaves the 41x30 image"),
        (["--mask", "{small}"], "is 8x8 but the image is 41x30"),
        (["--mask", "{empty}"], "no pixel as missing"),
    ],
)
def test_complete_mask_mistakes_are_one_line_errors(trained, tmp_path, capsys, extra, message):
    from dynamicnet.cli.main import main

    Image.fromarray(np.zeros((30, 41, 3), np.uint8)).save(tmp_path / "in.png")
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(tmp_path / "small.png")
    Image.fromarray(np.zeros((30, 41), np.uint8)).save(tmp_path / "empty.png")
    extra = [e.format(small=tmp_path / "small.png", empty=tmp_path / "empty.png") for e in extra]
    code = main(
        ["complete", str(tmp_path / "in.png"), *extra, "--model", str(trained), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_complete_refuses_other_tasks(tiny_model_file, tmp_path, capsys):
    from dynamicnet.cli.main import main

    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "in.png")
    args = ["complete", str(tmp_path / "in.png"), "--box", "2,2,4,4", "--model", str(tiny_model_file)]
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    assert "not a completion model" in capsys.readouterr().err


# --- evaluation ----------------------------------------------------------------------------
def test_quick_completion_study_end_to_end(tmp_path, photos, capsys, completion_recipe, monkeypatch):
    from dynamicnet.cli.main import main
    from dynamicnet.tasks.completion import study

    recipe = completion_recipe(tmp_path, photos)
    held_out = tmp_path / "held-out"
    held_out.mkdir()
    for i, f in enumerate(sorted(photos.glob("*.jpg"))[:2]):
        img = np.asarray(Image.open(f)).copy()
        img[0, 0] = (i * 50) % 256  # other bytes than the training photo: held out
        Image.fromarray(img).save(held_out / f.name)
    out = tmp_path / "study"
    args = ["evaluate", "completion", str(recipe), "--photos", str(held_out), "--out", str(out)]
    args += ["--quick", "--no-progress", "--perceptual", "random"]
    assert main(args) == 0
    assert "per-image oracle" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert results["knobs"] == [0.0, 0.5, 1.0] and results["images"] == 4
    assert set(results["kinds"]) == {"box", "free"}  # each kind of hole scored on its own
    for kind, result in results["kinds"].items():
        for metric, row in result["table"].items():
            sign = 1 if row["better"] == "higher" else -1
            # the oracle is never worse than the best single alpha, which is never worse than either end
            assert sign * row["oracle"]["value"] >= sign * row["best_global"]["value"] - 1e-9, metric
            ends = max(sign * row["alpha_0"], sign * row["alpha_1"])
            assert sign * row["best_global"]["value"] >= ends - 1e-9, metric
            assert set(row["fixed"]) == {"0", "1"} and row["fixed"]["0"] == pytest.approx(row["alpha_0"])
        # the classical fills are scored on the same holes (OpenCV and PatchMatch come with [studies])
        assert {"smooth fill (ours)", "OpenCV Telea", "OpenCV Navier-Stokes", "PatchMatch"} <= set(
            result["baselines"]
        )
        assert all(0 < b["ssim"] <= 1 and b["ms_per_image"] > 0 for b in result["baselines"].values())
        for name in (f"metrics-{kind}.png", f"pictures-{kind}.jpg"):
            assert (out / name).stat().st_size > 0
    assert "OpenCV Telea" in (out / "report.md").read_text()
    scored = set(json.loads((out / "scores.json").read_text()))
    assert main(args) == 0  # a rerun trains nothing and reuses every score
    assert "training" not in capsys.readouterr().out
    assert set(json.loads((out / "scores.json").read_text())) == scored
    # a changed fill (new code in the classical fills or the model) is scored again, not reused
    monkeypatch.setattr(study, "fill_code", lambda: "other code")
    assert main(args) == 0
    rescored = set(json.loads((out / "scores.json").read_text()))
    assert scored < rescored and len(rescored) == 2 * len(scored)


def test_info_lists_the_objectives_terms(trained, capsys):
    from dynamicnet.cli.main import main

    assert main(["info", str(trained)]) == 0
    out = capsys.readouterr().out
    assert "completion" in out and "tune:default (sharp)   l1 1, perceptual 0.5, adversarial 0.1" in out


def test_trains_on_faces_in_celeba_layout_with_the_papers_centred_hole(tmp_path, photos, completion_recipe):
    rng = np.random.default_rng(0)
    faces = tmp_path / "faces"
    (faces / "img_align_celeba").mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(6)]
    for name in names:
        Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(
            faces / "img_align_celeba" / name
        )
    (faces / "list_attr_celeba.txt").write_text("6\nSmiling\n" + "".join(f"{n}  1\n" for n in names))
    recipe = completion_recipe(tmp_path, photos, mask="centre")
    text = recipe.read_text().replace(f'photos = "{photos}"', f'faces = "{faces}"\nsize = 32')
    recipe.write_text(text.replace("crop = 32\n", "").replace("steps = 3", "steps = 1"))
    model = dynamicnet.load(train(recipe, tmp_path / "run", progress=False))
    assert model.config["holes"] == {"mask": "centre", "hole": 0.5}
    assert model.config["recipe"]["data"]["faces"] == str(faces)


def test_blind_criteria_prefer_the_fill_that_matches_its_surroundings():
    from dynamicnet.inference.working_point import boundary_seam, choose_alpha, detail_gap

    yy, xx = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    photo = torch.stack([xx, yy, (xx + yy) / 2])[None]
    mask = centre_square(32, 32)[None]
    seamless, offset = photo.clone(), torch.where(mask > 0.5, (photo + 0.3).clamp(0, 1), photo)
    assert boundary_seam(seamless, mask) < boundary_seam(offset, mask) / 10
    edge_mask = torch.zeros(1, 1, 32, 32)
    edge_mask[..., :, :4] = 1  # a hole on the border: nothing wraps around
    assert float(boundary_seam(photo, edge_mask)) < 0.05
    textured = photo + 0.05 * torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    flat = torch.where(mask > 0.5, textured.mean(), textured)
    assert detail_gap(textured, mask) < detail_gap(flat, mask)
    model = random_model()
    alphas, scores = choose_alpha(model, photo, mask[0], grid=(0.0, 1.0))
    assert scores.shape == (1, 2) and float(alphas[0]) == (0.0, 1.0)[int(scores[0].argmin())]
    with pytest.raises(ValueError, match="unknown criterion"):
        choose_alpha(model, photo, mask[0], criterion="vibes")


def test_the_ring_criterion_picks_the_alpha_that_restores_known_pixels():
    """Hiding known pixels around the hole gives a check with ground truth: a 'model' whose
    alpha 1 fills with the truth wins over one whose alpha 0 fills with grey."""
    from dynamicnet.inference.working_point import choose_alpha, ring_error

    yy, xx = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    photo = torch.stack([xx, yy, (xx + yy) / 2])[None]
    mask = centre_square(32, 32, 0.25)[None]

    class Oracle(torch.nn.Module):
        def forward(self, x, alpha=0.0, mask=None):
            guess = photo if alpha == 1.0 else torch.full_like(x, 0.5)
            return torch.where(mask > 0.5, guess, x)

    assert (
        float(ring_error(Oracle(), photo, mask, 1.0)) == 0.0 < float(ring_error(Oracle(), photo, mask, 0.0))
    )
    alphas, scores = choose_alpha(Oracle(), photo, mask, grid=(0.0, 1.0), criterion="ring")
    assert float(alphas[0]) == 1.0 and scores.shape == (1, 2)
    whole = torch.ones(1, 1, 32, 32)
    whole[..., :2, :2] = 0  # the ring would hide every pixel: no ring, no preference
    assert float(ring_error(Oracle(), photo, whole, 0.0)) == 0.0


def test_ring_detail_refuses_a_smooth_fill_of_a_wide_hole_in_texture_only():
    """Alpha 0 fills with the flat mean (best on the hidden ring), alpha 1 with texture of the
    surroundings' strength (worse there): ring takes the flat fill everywhere; ring-detail
    takes the textured one for a hole 32 px across in texture, where a flat patch shows, and
    not for a thin stroke, nor in surroundings too calm for a flat patch to show."""
    from dynamicnet.inference.working_point import (
        DETAIL_FLOOR,
        TEXTURE_GATE,
        choose_alpha,
        detail_in,
        detail_ratio,
        rings,
    )

    noise = torch.Generator().manual_seed(0)

    def two_fills(strength: float):
        photo = (0.5 + strength * torch.randn(1, 3, 96, 96, generator=noise)).clamp(0, 1)
        other = (0.5 + strength * torch.randn(1, 3, 96, 96, generator=noise)).clamp(0, 1)

        class TwoFills(torch.nn.Module):
            def forward(self, x, alpha=0.0, mask=None):
                fill = other if alpha == 1.0 else torch.full_like(x, 0.5)
                return torch.where(mask > 0.5, fill, x)

        return photo, TwoFills()

    wide, thin = torch.zeros(1, 1, 96, 96), torch.zeros(1, 1, 96, 96)
    wide[..., 30:66, 30:66] = 1  # 36 px across
    thin[..., 44:52, 8:88] = 1  # 8 px across
    textured, calm = two_fills(0.1), two_fills(0.01)
    for photo, model in (textured, calm):
        assert float(detail_ratio(model(photo, 0.0, wide), wide)) < DETAIL_FLOOR
        assert float(detail_ratio(model(photo, 1.0, wide), wide)) > DETAIL_FLOOR
    assert float(detail_in(calm[0], rings(wide))) < TEXTURE_GATE < float(detail_in(textured[0], rings(wide)))
    for (photo, model), mask, expected in ((textured, wide, 1.0), (textured, thin, 0.0), (calm, wide, 0.0)):
        assert float(choose_alpha(model, photo, mask, grid=(0.0, 1.0), criterion="ring")[0][0]) == 0.0
        chosen, _ = choose_alpha(model, photo, mask, grid=(0.0, 1.0), criterion="ring-detail")
        assert float(chosen[0]) == expected


def test_the_ring_is_a_quarter_of_the_holes_thickness_wide_for_boxes_and_strokes_alike():
    from dynamicnet.inference.working_point import half_thickness, rings

    box = torch.zeros(1, 1, 96, 96)
    box[..., 20:60, 30:78] = 1  # 40 x 48: half thickness 20, ring 10
    stroke = torch.zeros(1, 1, 96, 96)
    stroke[..., 40:52, 4:92] = 1  # 12 px wide and as large as a 33 px square: ring 4, not 8
    masks = torch.cat([box, stroke])
    assert half_thickness(masks).tolist() == [20.0, 6.0]
    around = rings(masks)
    assert around[0, 0, 20:60, 20:30].eq(1).all() and around[0, 0, 20:60, 19].eq(0).all()
    assert around[1, 0, 36:40, 4:92].eq(1).all() and around[1, 0, 35, 4:92].eq(0).all()
    assert not (around * masks).any()


def test_masks_from_editors_batches_and_dtypes():
    opaque = np.zeros((8, 10, 4), np.uint8)
    opaque[..., 3] = 255  # an opaque black layer with a white hole, as editors export
    opaque[2:4, 3:7, :3] = 255
    with_alpha = Image.fromarray(opaque, "RGBA")
    from dynamicnet.data.masks import mask_values

    assert (mask_values(with_alpha) >= 128).sum() == 8
    with pytest.raises(MaskError, match="divide a 0-255 mask by 255"):
        check_mask(torch.full((1, 8, 8), 255.0), 8, 8)
    two = torch.zeros(2, 1, 8, 8)
    two[0, :, 2:4, 2:4] = 1
    with pytest.raises(MaskError, match="mask of image 1 marks no pixel"):
        check_mask(two, 8, 8)
    model = random_model()
    x = torch.rand(2, 3, 16, 16)
    with pytest.raises(MaskError, match="3 masks for 2 images"):
        model(x, mask=centre_square(16, 16)[None].expand(3, 1, 16, 16))
    half = model(x.half(), alpha=0.5, mask=centre_square(16, 16))
    assert half.dtype == torch.float16
    assert torch.allclose(half.float(), model(x, alpha=0.5, mask=centre_square(16, 16)), atol=2e-3)


def test_complete_fills_at_the_training_scale_and_pastes_back():
    from dynamicnet.tasks.completion.model import complete, training_side

    model = random_model()
    model.config["recipe"] = {"data": {"photos": "p", "crop": 16, "resize": 24}}
    assert training_side(model.config) == 24
    x = torch.rand(1, 3, 60, 90)
    mask = torch.zeros(1, 1, 60, 90)
    mask[..., 20:40, 30:60] = 1
    out = complete(model, x, mask, alpha=1.0)
    known = mask.expand_as(x) == 0
    assert out.shape == x.shape and torch.equal(out[known], x[known])
    full = complete(model, x, mask, alpha=1.0, side=None)
    assert torch.equal(full, model(x, alpha=1.0, mask=mask))
    assert not torch.allclose(out, full)


def test_auto_alpha_refuses_a_hole_that_leaves_nothing_known_at_the_working_scale():
    """A hole that leaves one column known in the photo leaves none once shrunk: a clear
    error, not a criterion that never ends."""
    from dynamicnet.inference.working_point import half_thickness
    from dynamicnet.tasks.completion.model import auto_alpha

    assert half_thickness(torch.ones(1, 1, 10, 14)).item() == 14  # the whole image: it ends
    model = random_model()
    model.config["recipe"] = {"data": {"photos": "p", "crop": 16, "resize": 24}}
    x = torch.rand(1, 3, 60, 90)
    mask = torch.ones(1, 1, 60, 90)
    mask[..., -1] = 0
    with pytest.raises(MaskError, match="leaves no pixel known"):
        auto_alpha(model, x, mask)
    mask[..., 60:] = 0
    alphas, scores = auto_alpha(model, x, mask)
    assert alphas.shape == (1,) and scores.shape == (1, 11)


def test_blocks_trained_across_the_knob_resume_exactly(tmp_path, photos, completion_recipe):
    """``alpha = "across"``: each block step runs at a drawn alpha t on (1 - t) O_0 + t O_1."""
    path = completion_recipe(tmp_path, photos, steps=(1, 3))
    path.write_text(path.read_text().replace('objective = "sharp"', 'objective = "sharp"\nalpha = "across"'))
    straight = train(path, tmp_path / "straight", progress=False)
    run = tmp_path / "run"
    assert train(path, run, progress=False, stop_after_steps=2) is None  # one step into the blocks
    state = load_checkpoint(run / "checkpoint.pt")
    assert state["stage"] == 1 and "draws" in state["stage_state"]
    resumed = train(path, run, resume=True, progress=False)
    a, b = dynamicnet.load(straight), dynamicnet.load(resumed)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name
    assert a.config["objectives"]["tune:default"]["trained_across_alpha_from"] == "smooth"
    logged = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    alphas = [r["alpha"] for r in logged if r.get("stage", "").startswith("tune:")]
    assert len(alphas) == 3 and len(set(alphas)) == 3 and all(0 < t <= 1 for t in alphas)


def test_the_discriminator_can_judge_the_hole_alone(tmp_path, photos, completion_recipe):
    """``[adversary] patches = "hole"``: another discriminator step than over whole crops."""
    path = completion_recipe(tmp_path, photos, steps=(1, 2))
    whole = train(path, tmp_path / "whole", progress=False)
    path.write_text(path.read_text() + '\n[adversary]\npatches = "hole"\n')
    holed = train(path, tmp_path / "hole", progress=False)
    a, b = dynamicnet.load(whole).state_dict(), dynamicnet.load(holed).state_dict()
    blocks = [k for k in a if ".blocks." in k]
    assert blocks and any(not torch.equal(a[k], b[k]) for k in blocks)
    assert all(torch.equal(a[k], b[k]) for k in a if ".blocks." not in k)  # the main stage is the same


def test_a_calibrated_knob_runs_the_blocks_at_alpha_to_its_exponent(tiny_completion_file):
    model = dynamicnet.load(tiny_completion_file)
    x, mask = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)), centre_square(32, 32, 0.4)
    with torch.no_grad():
        plain = {a: model(x, alpha=a, mask=mask) for a in (0.25, 0.5)}
        model.config["knob_exponent"] = 2.0
        assert torch.allclose(model(x, alpha=0.5, mask=mask), plain[0.25], atol=1e-6)
        assert torch.allclose(model(x, alpha=torch.tensor([0.5]), mask=mask), plain[0.25], atol=1e-6)
        assert not torch.allclose(model(x, alpha=0.5, mask=mask), plain[0.5])
    assert model.knob(-0.5) == -0.25 and model.knob({"default": 0.5}) == {"default": 0.25}
    assert model.knob([0.5, 1.0]) == [0.25, 1.0]
