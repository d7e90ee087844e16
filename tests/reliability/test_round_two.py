"""Classes of bad input found by adversarial testing: crafted model files, bounded recipes,
FIFOs, decompression bombs, outputs read back as inputs, late output-path errors, terminal
escapes and non-finite outputs. Each gets one line and exit 2 (or the right result), never
a traceback, a hang, a huge allocation or a half-written output."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dynamicnet.cli.main import main

_spec = importlib.util.spec_from_file_location(
    "hostile_files", Path(__file__).parents[1] / "hostile_files.py"
)
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)


def _one_line_error(code: int, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@pytest.fixture(scope="module")
def crafted(tmp_path_factory, tiny_model_file):
    return hostile.crafted_models(tmp_path_factory.mktemp("crafted"), tiny_model_file)


REFUSED_AT_LOAD = [
    "alpha-range-nulls", "alpha-range-strings", "nested-5000-deep", "block-at-empty",
    "block-channels-changed", "weights-reshaped", "name-is-a-list", "huge-channel-count", "extra-block",
    "nan-weights",
]  # fmt: skip


@pytest.mark.parametrize("name", REFUSED_AT_LOAD)
def test_crafted_model_files_are_refused_by_every_command(name, crafted, photo_dir, tmp_path, capsys):
    import resource

    path = str(crafted[name])
    photo = str(next(photo_dir.glob("*.jpg")))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    runs = [
        ["stylize", photo, "--model", path, "--out", str(tmp_path / "out")],
        ["export", "onnx", path, "--out", str(tmp_path / "m.onnx")],
    ]
    if name != "nan-weights":  # metadata and shapes: info reads no weights
        runs.append(["info", path])
    for argv in runs:
        _one_line_error(main(argv), capsys.readouterr().err)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 200, f"refusing {name} raised peak memory by {grown_mib:.0f} MiB"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    assert not (tmp_path / "m.onnx").exists()


def test_the_demo_refuses_a_crafted_model_at_start(crafted):
    from dynamicnet.errors import DynamicNetError
    from dynamicnet.server import create_app

    with pytest.raises(DynamicNetError, match="weights do not match"):
        create_app({"x": crafted["weights-reshaped"]})


def test_a_non_finite_output_is_an_error_not_a_black_image(crafted, photo_dir, tmp_path, capsys):
    photo = str(next(photo_dir.glob("*.jpg")))
    out = tmp_path / "out"
    code = main(
        ["stylize", photo, "--model", str(crafted["overflowing-weights"]), "--alpha", "1", "--out", str(out)]
    )
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert "not finite" in err and not list(out.glob("*.png"))


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("crop = 32", "crop = 4", "'data.crop'"),
        ("seed = 3", "seed = -1", "'seed'"),
        ("batch = 2", "batch = 1000000000", "'data.batch'"),
        ("crop = 32\nresize = 36\nbatch = 2", "crop = 4096\nresize = 4096\nbatch = 4096", "pixels per step"),
    ],
)
def test_absurd_recipe_values_are_refused_before_any_work(
    old, new, message, tmp_path, tiny_recipe_in, capsys
):
    recipe = tiny_recipe_in(tmp_path)
    assert old in recipe.read_text()
    recipe.write_text(recipe.read_text().replace(old, new, 1))
    out = tmp_path / "run"
    code = main(["train", str(recipe), "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert message in err and not out.exists()


def test_a_run_that_fails_before_its_first_checkpoint_leaves_nothing(
    tmp_path, tiny_recipe_in, monkeypatch, capsys
):
    from dynamicnet.training import trainer

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(trainer, "_run_stage", out_of_memory)
    out = tmp_path / "run"
    with pytest.raises(MemoryError):
        trainer.train(tiny_recipe_in(tmp_path), out, progress=False)
    assert not out.exists()


def _cli(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The command in its own process: a hang fails the test instead of blocking the suite."""
    return subprocess.run(
        [sys.executable, "-m", "dynamicnet.cli.main", *argv], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_fifos_are_refused_not_waited_on(tmp_path, tiny_model_file, tiny_recipe_in):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    recipe = tiny_recipe_in(tmp_path)
    style = next(line for line in recipe.read_text().splitlines() if line.startswith("style ="))
    piped_style = tmp_path / "piped-style.toml"
    piped_style.write_text(recipe.read_text().replace(style, f'style = "{fifo}"'))
    recipe_fifo = tmp_path / "recipe.toml.fifo"
    os.mkfifo(recipe_fifo)
    for argv in [
        ("stylize", str(fifo), "--model", str(tiny_model_file), "--out", str(tmp_path / "o")),
        ("info", str(fifo)),
        ("train", str(piped_style), "--out", str(tmp_path / "run"), "--no-progress"),
        ("train", str(recipe_fifo), "--out", str(tmp_path / "run2"), "--no-progress"),
    ]:
        result = _cli(*argv)
        _one_line_error(result.returncode, result.stderr)
        assert "not a regular file" in result.stderr


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path, tiny_model_file, photo_dir, capsys):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(hostile._png_claiming(30000, 30000))
    code = main(["stylize", str(bomb), "--model", str(tiny_model_file), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert "900 megapixels" not in err and "limit is 100 megapixels" in err and "--max-megapixels" in err
    photo = str(next(photo_dir.glob("*.jpg")))
    code = main(["stylize", photo, "--model", str(tiny_model_file), "--out", str(tmp_path / "o"),
                 "--max-megapixels", "0.001"])  # fmt: skip
    _one_line_error(code, capsys.readouterr().err)


def test_outputs_are_never_read_back_as_inputs(photo_dir, tiny_model_file, capsys):
    out = photo_dir / "out"
    argv = ["stylize", str(photo_dir), "--recursive", "--model", str(tiny_model_file), "--alpha", "1",
            "--out", str(out), "--no-progress"]  # fmt: skip
    counts = []
    for _ in range(3):
        assert main(argv) == 0
        counts.append(len(list(out.rglob("*.png"))))
    assert (
        counts[0]
        == counts[1]
        == counts[2]
        == len([p for p in photo_dir.rglob("*.*") if out not in p.parents])
    )
    capsys.readouterr()
    code = main(["stylize", str(photo_dir), "--model", str(tiny_model_file), "--out", str(photo_dir)])
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert "input folder" in err


def test_an_animation_path_is_checked_before_the_work(tiny_gan_file, tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    out = tmp_path / "faces"
    code = main(
        ["generate", str(tiny_gan_file), "--n", "2", "--out", str(out), "--animate", str(blocker / "x.gif")]
    )
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert "--animate" in err and ".tmp" not in err and not list(out.rglob("*.png"))
    code = main(["generate", str(tiny_gan_file), "--n", "2", "--out", str(out),
                 "--animate", str(tmp_path / "new" / "x.gif")])  # fmt: skip
    assert code == 0 and (tmp_path / "new" / "x.gif").is_file()


def test_control_characters_in_names_are_escaped(photo_dir, tiny_model_file, tmp_path, capsys):
    import shutil

    odd = tmp_path / "in" / "a\x1b[31mred.jpg"
    odd.parent.mkdir()
    shutil.copy(next(photo_dir.glob("*.jpg")), odd)
    assert (
        main(["stylize", str(odd), "--model", str(tiny_model_file), "--alpha", "1", "--out", str(tmp_path)])
        == 0
    )
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "\\x1b" in printed


def test_export_says_what_it_writes(tiny_model_file, tmp_path, capsys):
    assert main(["export", "onnx", str(tiny_model_file), "--out", str(tmp_path / "x.txt"), "--no-check"]) == 0
    captured = capsys.readouterr()
    assert "ONNX model" in captured.out and "usually named .onnx" in captured.err


def test_decoder_complaints_stay_off_the_terminal(tmp_path, tiny_model_file):
    """Pillow logs what it finds wrong in a damaged TIFF; the user sees our one line only
    (in a process of its own: the test runner would catch the log record otherwise)."""
    import io
    import struct

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(buffer, format="TIFF")
    data = bytearray(buffer.getvalue())
    ifd = struct.unpack("<I", data[4:8])[0]
    for i in range(struct.unpack("<H", data[ifd : ifd + 2])[0]):
        entry = ifd + 2 + 12 * i
        if struct.unpack("<H", data[entry : entry + 2])[0] == 277:  # SamplesPerPixel
            data[entry + 8 : entry + 10] = struct.pack("<H", 2048)
    path = tmp_path / "odd.tiff"
    path.write_bytes(bytes(data))
    result = _cli("stylize", str(path), "--model", str(tiny_model_file), "--out", str(tmp_path / "o"))
    _one_line_error(result.returncode, result.stderr)
