"""The restore task: degradations made on the fly, a model that starts at the classical
answer, training that resumes exactly, the command, and the demo's view of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import dynamicnet
from dynamicnet.cli import main as cli
from dynamicnet.tasks import load_recipe
from dynamicnet.tasks.restore import model as restore
from dynamicnet.tasks.restore.degrade import Degradation, enlarge, shrink
from dynamicnet.tasks.restore.quality import psnr
from dynamicnet.training.recipe import RecipeError
from dynamicnet.training.trainer import train

RECIPE = """
name = "tiny-restore"
task = "restore"
seed = 3
perceptual = "random"
[data]
photos = "{photos}"
crop = 16
batch = 2
[degradation]
{degradation}
[model]
width = 8
depth = 2
ndf = 8
upsample = "resize"
[adversary]
lr = 5e-3
norm = "instance"
[train]
checkpoint_every = 1
log_every = 1
[objectives.faithful]
l1 = 1.0
[objectives.sharp]
l1 = 0.1
perceptual = 1.0
adversarial = 0.5
[main]
objective = "faithful"
steps = {main}
lr = 1e-2
[[tune]]
objective = "sharp"
steps = {tune}
lr = 1e-2
alpha = "across"
"""


def write(
    folder: Path, photos: Path, degradation="scale = 2\nnoise = 5", steps=(3, 3), name="r.toml"
) -> Path:
    path = folder / name
    path.write_text(RECIPE.format(photos=photos, degradation=degradation, main=steps[0], tune=steps[1]))
    return path


def _photo(h: int = 32, w: int = 48, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    smooth = torch.nn.functional.interpolate(
        torch.rand(1, 3, h // 8, w // 8, generator=g), size=(h, w), mode="bilinear"
    )
    return (smooth * 0.8 + 0.2 * torch.rand(1, 3, h, w, generator=g)).clamp(0, 1)


def test_degradations_shrink_add_the_noise_asked_for_and_repeat_from_their_seed():
    x = _photo()
    assert shrink(x, 4).shape[-2:] == (8, 12)
    assert shrink(x, 2, blur=1.2).shape[-2:] == (16, 24)
    flat = torch.full((1, 3, 64, 64), 0.5)
    noisy = Degradation(noise=25)(flat, np.random.default_rng(0))
    assert abs(float((noisy - flat).std()) * 255 - 25) < 1.5
    again = Degradation(noise=25)(flat, np.random.default_rng(0))
    assert torch.equal(noisy, again)
    assert not torch.equal(noisy, Degradation(noise=25)(flat, np.random.default_rng(1)))
    blocky = Degradation(jpeg=10)(x, np.random.default_rng(0))
    assert blocky.shape == x.shape and 0.003 < float((blocky - x).abs().mean()) < 0.2
    both = Degradation(scale=2, noise=5, jpeg=50)
    assert both(x, np.random.default_rng(0)).shape[-2:] == (16, 24)
    assert both.kind == "super-resolution" and Degradation(noise=5).kind == "denoising"


def test_a_fresh_model_starts_at_the_classical_answer():
    degradation = Degradation(scale=4)
    model = restore.build(restore.default_config(degradation, width=8, depth=2)).eval()
    small = shrink(_photo(), 4)
    with torch.no_grad():
        out = model(small)
    assert out.shape[-2:] == (32, 48)
    # the network only adds a small residual to bicubic at initialisation
    assert float((out - enlarge(small, 4).clamp(0, 1)).abs().mean()) < 0.02


@pytest.mark.parametrize(
    "degradation, words",
    [
        ("scale = 1", "undoes nothing"),
        ("noise = 5\nblur = 1.0", "'blur' goes with a 'scale'"),
        ("scale = 3", "multiple of the scale"),
        ("scale = 5", "scale"),
        ("jpeg = 100", "jpeg"),
        ("sharpen = 1", "sharpen"),
    ],
)
def test_bad_recipes_are_one_line_errors(tmp_path, photo_dir, degradation, words):
    with pytest.raises(RecipeError, match=words):
        load_recipe(write(tmp_path, photo_dir, degradation))


def test_training_resumes_bit_for_bit_through_the_adversarial_stage(tmp_path, photo_dir):
    recipe = load_recipe(write(tmp_path, photo_dir, steps=(1, 3)))
    whole = train(recipe, tmp_path / "whole", progress=False)
    train(recipe, tmp_path / "parts", progress=False, stop_after_steps=2)
    parts = train(recipe, tmp_path / "parts", progress=False, resume=True)
    a, b = dynamicnet.load(whole), dynamicnet.load(parts)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name


def test_the_discriminator_learns_at_its_own_rate_and_normalises_per_image(tmp_path, photo_dir):
    from dynamicnet.tasks.restore.training import RestoreTraining

    recipe = load_recipe(write(tmp_path, photo_dir))
    main, blocks = RestoreTraining(recipe, torch.device("cpu")).stages()
    assert main.state.net is None  # L1 alone: no discriminator
    assert blocks.lr == 1e-2 and blocks.state.optimizer.param_groups[0]["lr"] == 5e-3
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in blocks.state.net.modules())


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny x2 model trained for a few steps (pixel and adversarial objectives)."""
    from tests.conftest import make_photo

    folder = tmp_path_factory.mktemp("restore")
    for i in range(4):
        make_photo(folder / "photos" / f"p{i}.jpg", size=(40 + 4 * i, 36), seed=i)
    recipe = load_recipe(write(folder, folder / "photos", "scale = 2", steps=(6, 6)))
    return Path(train(recipe, folder / "run", progress=False))


def test_the_command_restores_degrades_scores_and_refuses_bad_input_in_one_line(trained, tmp_path, capsys):
    from tests.conftest import make_photo

    photo = make_photo(tmp_path / "clean.png", size=(30, 20), seed=7)
    out = tmp_path / "out"
    code = cli.main(
        ["restore", str(photo), "-m", str(trained), "-a", "0", "1", "--degrade", "--sheet", "-o", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "PSNR against the clean image: bicubic" in printed and "alpha 1:" in printed
    from PIL import Image

    assert Image.open(out / "clean_degraded.png").size == (15, 10)
    assert Image.open(out / "clean_alpha=1.png").size == (30, 20)
    assert (out / "sheet.png").exists()
    # without --degrade the image is the small one: the output is twice its size
    assert cli.main(["restore", str(photo), "-m", str(trained), "-a", "0.5", "-o", str(out)]) == 0
    assert Image.open(out / "clean_alpha=0.5.png").size == (60, 40)
    # the noise is drawn from the file's name: the same photo scores the same in any company
    other = make_photo(tmp_path / "other.png", size=(30, 20), seed=8)
    for order in ([photo], [other, photo]):
        cli.main(["restore", *map(str, order), "-m", str(trained), "-a", "0", "--degrade", "-o", str(out)])
        line = [t for t in capsys.readouterr().out.splitlines() if t.startswith(str(photo))]
        first = next(t for t in printed.splitlines() if "PSNR" in t)
        assert line == [first.split(", alpha 1")[0]]
    tiny = make_photo(tmp_path / "tiny.png", size=(1, 5), seed=9)
    twin = make_photo(tmp_path / "twin" / "clean.png", size=(30, 20), seed=7)
    for bad in (
        ["restore", str(tmp_path / "missing.png"), "-m", str(trained), "-o", str(out)],
        ["restore", str(photo), "-m", str(trained), "-a", "x", "-o", str(out)],
        ["restore", str(photo), "-m", "starry-level", "-o", str(out)],
        ["restore", str(tiny), "-m", str(trained), "-o", str(out)],
        ["restore", str(photo), str(twin), "-m", str(trained), "-o", str(out)],
        ["restore", str(photo), "-m", str(trained), "--criterion", "consistency", "-o", str(out)],
    ):
        assert cli.main(bad) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err


def test_folders_are_restored_into_a_mirrored_tree_skipping_bad_files_and_resuming(trained, tmp_path, capsys):
    from tests.conftest import make_photo

    make_photo(tmp_path / "in" / "a.png", size=(30, 20), seed=1)
    make_photo(tmp_path / "in" / "sub" / "b.jpg", size=(24, 18), seed=2)
    make_photo(tmp_path / "in" / "sub" / "tiny.png", size=(1, 5), seed=3)
    (tmp_path / "in" / "broken.jpg").write_text("not an image")
    out = tmp_path / "out"
    args = [
        "restore",
        str(tmp_path / "in"),
        "-r",
        "-m",
        str(trained),
        "-a",
        "0",
        "1",
        "-o",
        str(out),
        "--no-progress",
    ]
    assert cli.main(args) == 0
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert made == ["a_alpha=0.png", "a_alpha=1.png", "sub/b_alpha=0.png", "sub/b_alpha=1.png"]
    printed = capsys.readouterr().out
    assert "skipped 2 unreadable file(s)" in printed and "too small to restore" in printed
    (out / "sub" / "b_alpha=1.png").unlink()  # as if the first run had been stopped there
    assert cli.main(args) == 0
    assert (
        "1 image(s) already restored" in capsys.readouterr().out and (out / "sub" / "b_alpha=1.png").is_file()
    )
    # the pixel limit is on the output: the message says so, in the user's own unit
    limit = ["--max-megapixels", str(30 * 20 * 4 / 1e6 - 1e-4)]
    assert (
        cli.main(["restore", str(tmp_path / "in" / "a.png"), "-m", str(trained), "-o", str(out), *limit]) == 2
    )
    assert "enlarged 2x it would pass --max-megapixels 0.0023" in capsys.readouterr().err


def test_the_renderer_matches_the_model_whole_and_in_tiles(trained):
    model = dynamicnet.load(trained)
    x = _photo(24, 40, seed=2)
    with torch.no_grad():
        expected = model(x, alpha=0.7)
    whole = dynamicnet.Renderer(model, precision="fp32")(x, alpha=0.7)
    tiled = dynamicnet.Renderer(model, precision="fp32", max_pixels=64, keep_bytes=2048, tile=8)
    assert torch.allclose(whole, expected, atol=1e-5)
    assert torch.allclose(tiled(x, alpha=0.7), expected, atol=1e-5)
    assert tiled.last_plan != "whole"


def test_psnr_is_infinite_for_equal_images_and_20_db_for_a_tenth():
    x = _photo()
    assert psnr(x, x) == float("inf")
    assert abs(psnr(torch.full_like(x, 0.6), torch.full_like(x, 0.5)) - 20) < 1e-4


def test_knob_figures_fail_a_knob_that_does_nothing_and_measure_one_that_moves():
    from dynamicnet.tasks.restore.quality import knob_figures

    model = restore.build(restore.default_config(Degradation(scale=2), width=8, depth=2)).eval()
    clean = _photo()
    blocks = [p for name, p in model.named_parameters() if ".blocks." in name]
    with torch.no_grad():
        for p in blocks:
            p.zero_()
    idle = knob_figures(model, clean, points=5)
    assert idle.move == 0 and not idle.monotone and idle.move < idle.floor
    assert abs(idle.faithful_psnr - idle.sharp_psnr) < 1e-9
    torch.manual_seed(0)
    with torch.no_grad():
        for p in blocks:
            p.add_(torch.randn_like(p) * 0.05)
    moving = knob_figures(model, clean, points=5)
    assert moving.faithful_psnr == idle.faithful_psnr  # alpha 0 is the main network alone
    assert moving.monotone and moving.move > 0 and len(moving.steps) == 4
    assert moving.summary().startswith(f"PSNR alpha 0 {idle.faithful_psnr:.2f} dB")


def test_the_study_scores_every_method_and_writes_its_report(tmp_path, photo_dir):
    """The whole study on a tiny recipe: Dynamic-Net, DNI, pixel blend, fixed networks, bicubic."""
    from dynamicnet.tasks.restore.study import RestoreStudy
    from tests.conftest import make_photo

    held = tmp_path / "held"
    for i in range(2):
        make_photo(held / f"h{i}.png", size=(40, 36), seed=20 + i)
    recipe = load_recipe(write(tmp_path, photo_dir, "scale = 2", steps=(2, 2)))
    study = RestoreStudy(
        recipe,
        tmp_path / "study",
        held,
        knob_points=3,
        images=2,
        size=32,
        perceptual="random",
        progress=False,
    )
    results = study.run()
    assert set(results["curves"]) == {"dynamic-net", "dni", "blend"} and set(results["fixed"]) == {"0", "1"}
    assert results["baseline"]["name"] == "bicubic" and results["images"] == 2
    curves = results["curves"]
    # DNI at 0 and the blend at 0 are the main network, which is the Dynamic-Net at alpha 0
    assert curves["dni"]["psnr"][0] == pytest.approx(curves["dynamic-net"]["psnr"][0], abs=1e-6)
    assert curves["blend"]["psnr"][-1] == pytest.approx(curves["dni"]["psnr"][-1], abs=1e-6)
    assert results["fixed"]["0"]["psnr"] == pytest.approx(curves["dynamic-net"]["psnr"][0], abs=1e-6)
    for name in ("report.md", "plane.png", "pictures.jpg", "results.json"):
        assert (tmp_path / "study" / name).stat().st_size > 0
    assert "auto: consistency" in (tmp_path / "study" / "report.md").read_text()
    # a second run reuses the trained networks and the scores, and reports the first run's time
    again = study.run()
    assert again["curves"] == curves
    assert again["seconds"]["score"] == results["seconds"]["score"] > 0


def test_the_demo_shows_the_input_degraded_or_as_it_is_beside_its_restoration(trained):
    import io

    from fastapi.testclient import TestClient
    from PIL import Image

    from dynamicnet.server import create_app

    with TestClient(create_app({"tiny": trained}), base_url="http://127.0.0.1") as client:
        (listed,) = client.get("/api/models").json()
        assert (listed["task"], listed["view"], listed["endpoint"]) == ("restore", "render", "/api/restore")
        assert "compare" not in listed["features"]  # its picture is input and result side by side
        sample = client.get("/api/samples").json()[0]["id"]
        pictures = {}
        for alpha in (0.0, 1.0):
            reply = client.post(
                "/api/restore", json={"image": sample, "model": "tiny", "alpha": alpha, "max_side": 64}
            )
            assert reply.status_code == 200
            pictures[alpha] = np.asarray(Image.open(io.BytesIO(reply.content)).convert("RGB"), dtype=float)
        a, b = pictures[0.0], pictures[1.0]
        assert a.shape[1] == 2 * a.shape[0]
        half = a.shape[1] // 2
        assert np.array_equal(a[:, :half], b[:, :half])  # the input does not depend on alpha
        assert not np.array_equal(a[:, half:], b[:, half:])  # the restoration does
        # a photo that is already small or noisy is restored as it is: its input is the photo itself
        assert "as-is" in listed["features"]
        reply = client.post(
            "/api/restore",
            json={"image": sample, "model": "tiny", "alpha": 0.0, "max_side": 64, "as_is": True},
        )
        given = np.asarray(Image.open(io.BytesIO(reply.content)).convert("RGB"), dtype=float)
        assert reply.status_code == 200 and given.shape == a.shape
        assert not np.array_equal(given[:, :half], a[:, :half])
        # each input pixel is shown as a 2 x 2 (zoom) x 2 x 2 (the model's scale) square
        assert np.array_equal(given[::4, :half:4], given[3::4, 3:half:4])
        bad = client.post("/api/restore", json={"image": sample, "model": "tiny", "alpha": "strong"})
        assert bad.status_code == 422 and "alpha" in bad.text


@pytest.mark.parametrize("upsample", ["shuffle", "resize"])
def test_only_the_resize_upsampler_is_free_of_a_grid_with_the_scales_period(upsample):
    from dynamicnet.tasks.restore.network import RestoreNet

    torch.manual_seed(0)
    net = RestoreNet(width=8, depth=2, scale=4, upsample=upsample)
    with torch.no_grad():
        net.tail.weight.normal_()  # as after training: the tail's kernels differ
        y = net(torch.full((1, 3, 12, 12), 0.3))
    assert y.shape == (1, 3, 48, 48)
    # a flat picture in: the sub-pixel convolution paints each 4x4 cell alike but unevenly
    flat = float(y.std(dim=(-2, -1)).max()) < 1e-5
    assert flat is (upsample == "resize")


def test_the_resize_enlargement_carries_a_tuning_block_at_the_outputs_resolution():
    """So the sharp end can invent detail a pixel wide, not only through the frozen enlargement."""
    config = restore.default_config(Degradation(scale=4), width=8, depth=4, upsample="resize")
    assert [(b["at"], b["channels"]) for b in config["blocks"].values()] == [
        ("res1", 8),
        ("res3", 8),
        ("up1_act", 16),
    ]
    for degradation, upsample in [(Degradation(scale=4), "shuffle"), (Degradation(noise=5), "resize")]:
        at = [b["at"] for b in restore.default_config(degradation, 8, 4, upsample)["blocks"].values()]
        assert at == ["res1", "res3"]
    torch.manual_seed(0)
    model = restore.build(config).eval()
    with torch.no_grad():
        for name, block in model.net.blocks["default"].items():  # only the detail block acts
            for p in block.parameters():
                p.normal_(std=0.3) if name == "block2" else p.zero_()
        small = shrink(_photo(), 4)
        moved = (model(small, alpha=1.0) - model(small)).abs().sum(0).sum(0)
    assert moved.shape == (32, 48) and bool((moved > 0).all())
