"""The command line: outputs, contact sheet, info, and one-line errors with exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import dynamicnet
from dynamicnet.cli.main import main
from dynamicnet.data.images import read_image
from dynamicnet.tasks.style import model as style


@pytest.fixture
def model_file(tiny_model_file):
    return tiny_model_file


@pytest.fixture
def photo(tmp_path, photo_factory) -> Path:
    return photo_factory(tmp_path / "in" / "cat.jpg", size=(30, 22))


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_stylize_writes_one_file_per_alpha_and_a_sheet(capsys, model_file, photo, tmp_path):
    out = tmp_path / "out"
    code, stdout, _ = run(
        capsys, "stylize", photo, "--model", model_file, "--alpha", "0", "0.5", "1",
        "--block-alpha", "0,0,1", "block1=0.7", "--out", out, "--sheet", "--precision", "fp32",
    )  # fmt: skip
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        ["cat_alpha=0.png", "cat_alpha=0.5.png", "cat_alpha=1.png", "cat_alpha=0_0_1.png",
         "cat_alpha=block1=0.7.png", "sheet.png"]
    )  # fmt: skip
    assert Image.open(out / "cat_alpha=0.5.png").size == (30, 22)
    model = dynamicnet.load(model_file)
    x = read_image(photo).unsqueeze(0)
    with torch.no_grad():
        expected = model(x, alpha=0.5)[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
    assert np.array_equal(np.asarray(Image.open(out / "cat_alpha=0.5.png")), expected)
    sheet = Image.open(out / "sheet.png")
    assert sheet.width > 6 * 100  # input + 5 settings side by side
    assert "sheet.png" in stdout


def test_info_prints_metadata(capsys, model_file):
    code, out, _ = run(capsys, "info", model_file)
    assert code == 0
    assert "block0    at res2" in out and "variant     single" in out
    code, out, _ = run(capsys, "info", model_file, "--json")
    assert code == 0 and '"task": "style"' in out


def _broken_inputs(tmp_path: Path, photo: Path) -> dict[str, Path]:
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image")
    truncated = tmp_path / "truncated.jpg"
    data = photo.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    return {"missing": tmp_path / "nope.jpg", "not an image": text, "damaged": truncated}


@pytest.mark.parametrize("case", ["missing", "not an image", "damaged"])
def test_bad_images_fail_cleanly(capsys, model_file, photo, tmp_path, case):
    bad = _broken_inputs(tmp_path, photo)[case]
    out = tmp_path / "out"
    code, _, err = run(capsys, "stylize", photo, bad, "--model", model_file, "--out", out)
    assert code == 2
    assert err.count("\n") == 1 and str(bad.name) in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("alpha", "message"),
    [
        (["--alpha", "abc"], "not a number"),
        (["--alpha", "0.5,x"], "not a number"),
        (["--alpha", "1,2"], "per-block values"),
        (["--alpha", "nope=1"], "unknown block 'nope'"),
        (["--alpha", "block0=1,2"], "all 'name=value'"),
        (["--alpha", "nan"], "not a finite number"),
        (["--alpha", "inf"], "not a finite number"),
        (["--alpha", "1_0"], "not a number"),
        (["--alpha", "block1=0.7,block1=0.2"], "given twice"),
        (["--block-alpha", "block9=1"], "unknown block 'block9'"),
        (["--block-alpha", "0.5"], "one value per block"),
    ],
)
def test_bad_alpha_fails_cleanly(capsys, model_file, photo, tmp_path, alpha, message):
    out = tmp_path / "out"
    code, _, err = run(capsys, "stylize", photo, "--model", model_file, *alpha, "--out", out)
    assert code == 2 and message in err and err.count("\n") == 1
    assert not out.exists()


def test_bad_models_fail_cleanly(capsys, photo, tmp_path):
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01 not safetensors at all" * 10)
    foreign = tmp_path / "foreign.safetensors"
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(foreign))
    for model, message in [
        (tmp_path / "absent.safetensors", "no such model file"),
        (garbage, "not a safetensors model file"),
        (foreign, "not a dynamicnet model"),
    ]:
        code, _, err = run(capsys, "stylize", photo, "--model", model, "--out", tmp_path / "o")
        assert code == 2 and message in err and err.count("\n") == 1, err
        code, _, err = run(capsys, "info", model)
        assert code == 2 and message in err
    assert not (tmp_path / "o").exists()


def test_unwritable_output_fails_cleanly(capsys, model_file, photo, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should go")
    code, _, err = run(capsys, "stylize", photo, "--model", model_file, "--out", blocker / "sub")
    assert code == 2 and "cannot create output folder" in err


def test_train_errors_fail_cleanly(capsys, tmp_path, recipe_factory):
    code, _, err = run(capsys, "train", tmp_path / "missing.toml")
    assert code == 2 and "no such file" in err
    recipe = recipe_factory()
    recipe.write_text(recipe.read_text().replace('photos = "', 'photos = "/nonexistent'))
    code, _, err = run(capsys, "train", recipe, "--out", tmp_path / "run")
    assert code == 2 and "no such folder" in err


def test_no_traceback_from_a_real_process(model_file, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "dynamicnet.cli.main", "stylize", str(tmp_path / "x.jpg"),
         "--model", str(model_file), "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "x.jpg: no such file" in done.stderr


def _mode_images(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 255, (20, 28, 3), dtype=np.uint8), "RGB")
    files = {}
    for mode in ("L", "LA", "P", "RGBA", "CMYK", "1"):
        path = tmp_path / f"{mode}.{'jpg' if mode == 'CMYK' else 'png'}"
        rgb.convert(mode).save(path)
        files[mode] = path
    sixteen = Image.fromarray((rng.integers(0, 65535, (20, 28))).astype(np.uint16))
    sixteen.save(tmp_path / "i16.png")
    files["I;16"] = tmp_path / "i16.png"
    rotated = tmp_path / "exif.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    rgb.save(rotated, exif=exif)
    files["exif"] = rotated
    return files


def test_every_pillow_mode_and_exif_orientation(capsys, model_file, tmp_path):
    files = _mode_images(tmp_path)
    out = tmp_path / "out"
    code, _, err = run(
        capsys, "stylize", *files.values(), "--model", model_file, "--alpha", "1", "--out", out
    )
    assert code == 0, err
    for mode, path in files.items():
        result = Image.open(out / f"{path.stem}_alpha=1.png")
        assert result.mode == "RGB"
        assert result.size == ((20, 28) if mode == "exif" else (28, 20)), mode


@pytest.fixture(scope="module")
def dual_file(tmp_path_factory) -> Path:
    torch.manual_seed(1)
    model = style.build(style.default_config("dual"))
    with torch.no_grad():
        for p in model.net.block_parameters():
            p.normal_(0, 0.05)
    return dynamicnet.save(model, tmp_path_factory.mktemp("d") / "dual.safetensors")


def test_negative_alphas_need_no_equals_sign(capsys, dual_file, photo, tmp_path):
    out = tmp_path / "out"
    code, _, err = run(
        capsys, "stylize", photo, "-m", dual_file, "-a", "-0.6", "-1e-1", "-0.6,0.2,1", "--out", out
    )
    assert code == 0, err
    names = {p.name for p in out.iterdir()}
    assert names == {"cat_alpha=-1e-1.png", "cat_alpha=-0.6.png", "cat_alpha=-0.6_0.2_1.png"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "cuda:7"], "device"),
        (["--device", "toaster"], "unknown device"),
        (["--max-side", "0"], "--max-side must be positive"),
        (["--out", ""], "--out is empty"),  # not the current folder
        (
            ["--nonsense"],
            "dynamicnet stylize: error: unrecognized arguments: --nonsense (see dynamicnet stylize --help)",
        ),
    ],
)
def test_option_errors_are_one_line(capsys, model_file, photo, tmp_path, args, message):
    code, _, err = run(capsys, "stylize", photo, "-m", model_file, "--out", tmp_path / "o", *args)
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_images_after_alpha_get_a_hint(capsys, model_file, photo, tmp_path):
    code, _, err = run(capsys, "stylize", "-m", model_file, "--out", tmp_path / "o", "-a", "0", "0.5", photo)
    assert code == 2 and "put the images before --alpha" in err


@pytest.mark.parametrize(
    "meta",
    ['[1, 2]', '{"task": "style", "format_version": "1"}', '{"task": "style", "architecture": "x", '
     '"variant": "single", "sets": ["default"], "blocks": {"block0": "res2"}}'],
)  # fmt: skip
def test_damaged_metadata_is_one_line(capsys, tmp_path, meta, photo):
    from safetensors.torch import save_file

    path = tmp_path / "odd.safetensors"
    save_file({"w": torch.zeros(1)}, str(path), metadata={"dynamicnet": meta})
    for args in (["info", path], ["stylize", photo, "-m", path, "--out", tmp_path / "o"]):
        code, _, err = run(capsys, *args)
        assert code == 2 and "damaged dynamicnet metadata" in err and err.count("\n") == 1


def test_train_stop_resume_and_damaged_checkpoint(capsys, recipe, tmp_path):
    out = tmp_path / "run"
    code, stdout, _ = run(capsys, "train", recipe, "--out", out, "--stop-after-steps", "2", "--no-progress")
    assert code == 0 and "continue with --resume" in stdout
    code, stdout, _ = run(capsys, "train", recipe, "--out", out, "--resume", "--no-progress")
    assert code == 0 and (out / "model.safetensors").exists()
    code, stdout, _ = run(capsys, "train", recipe, "--out", out, "--resume", "--no-progress")
    assert code == 0 and "already trained" in stdout
    (out / "checkpoint.pt").write_bytes(b"garbage")
    code, _, err = run(capsys, "train", recipe, "--out", out, "--resume", "--no-progress")
    assert code == 0 and "warning: checkpoint.pt is damaged" in err  # the previous one takes over
    (out / "checkpoint.pt").write_bytes(b"garbage")
    (out / "checkpoint.prev.pt").write_bytes(b"garbage")
    code, _, err = run(capsys, "train", recipe, "--out", out, "--resume")
    assert code == 2 and "is damaged" in err and err.count("\n") == 1


def test_failed_start_leaves_no_run_folder(capsys, recipe_factory, tmp_path):
    recipe = recipe_factory()
    recipe.write_text(recipe.read_text().replace('style = "', 'style = "/nonexistent/'))
    code, _, err = run(capsys, "train", recipe, "--out", tmp_path / "run")
    assert code == 2 and "no such file" in err
    assert not (tmp_path / "run").exists()


def test_export_onnx_writes_a_checked_graph(capsys, model_file, tmp_path):
    out = tmp_path / "m.onnx"
    code, stdout, _ = run(capsys, "export", "onnx", model_file, "--out", out, "--shared-alpha")
    assert code == 0 and out.is_file()
    assert "inputs: image, alpha; output: stylized" in stdout
    assert "onnxruntime vs PyTorch" in stdout
    code, _, err = run(capsys, "export", "onnx", model_file, "--out", tmp_path / "x.onnx", "--opset", "9")
    assert code == 2 and "opset 9" in err and not (tmp_path / "x.onnx").exists()


def test_models_table_and_loading_by_name(capsys):
    from dynamicnet.models import shipped_models

    code, out, _ = run(capsys, "models")
    table, folder = out.split("\n\n")
    lines = table.splitlines()
    assert code == 0 and lines[0].split()[:4] == ["NAME", "TASK", "ALPHA", "FROM"]
    assert [line.split()[0] for line in lines[1:]] == [m.name for m in shipped_models()]
    assert all("  shipped  " in line for line in lines[1:]) and "your models" in folder
    for m in shipped_models():
        assert dynamicnet.load(m.name).task == m.task
    code, _, err = run(capsys, "info", "no-such-model")
    assert code == 2 and "no such model file or model name" in err
    with pytest.raises(dynamicnet.ModelFileError, match="shipped"):
        dynamicnet.load("no-such-model")


def test_alpha_outside_the_trained_range_is_warned_about(tiny_model_file, photo_dir, tmp_path, capsys):
    photo = str(next(photo_dir.glob("*.jpg")))
    argv = ["stylize", photo, "--model", str(tiny_model_file), "--out", str(tmp_path)]
    assert main([*argv, "--alpha", "0.5", "1"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main([*argv, "--alpha", "5", "--block-alpha", "0,0,-2"]) == 0
    err = capsys.readouterr().err
    assert "alpha 5 leaves the trained range [0, 1]" in err and "alpha 0,0,-2 leaves" in err
