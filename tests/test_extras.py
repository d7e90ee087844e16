"""``pip install dynamicnet`` without extras: the library, training and the command line for
images work, and each command that needs an extra says which in one line.

Each check runs in a fresh interpreter in which the optional packages cannot be imported,
as on a machine where they were never installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

OPTIONAL = [
    "fastapi", "starlette", "uvicorn", "multipart", "python_multipart", "av", "cairosvg", "python_avatars",
    "onnxruntime", "matplotlib", "skimage", "scipy",
]  # fmt: skip

_BLOCK = f"""
import sys
for name in {OPTIONAL!r}:
    sys.modules[name] = None  # import fails and importlib.util.find_spec says None, as when not installed
"""


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess:
    script = _BLOCK + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_the_library_loads_and_stylizes_without_extras(tmp_path, photo_dir):
    done = _run(
        f"""
        import torch, dynamicnet
        from dynamicnet.cli.main import main
        net = dynamicnet.load("starry-level")
        y = dynamicnet.Renderer(net)(torch.rand(3, 40, 48), alpha=0.5)
        assert y.shape == (3, 40, 48)
        photo = sorted(__import__("pathlib").Path({str(photo_dir)!r}).glob("*.jpg"))[0]
        code = main(["stylize", str(photo), "--model", "starry-level", "--alpha", "0.5", "--out", "out",
                     "--no-progress"])
        assert code == 0, code
        assert main(["complete", str(photo), "--box", "8,8,16,16", "-m", "photo-fill", "-o", "filled"]) == 0
        assert main(["generate", "faces-male-to-female", "--n", "2", "--alpha", "1", "-o", "faces"]) == 0
        assert main(["info", "starry-level"]) == 0
        loaded = [m for m, v in sys.modules.items() if v is not None and m.split(".")[0] in {OPTIONAL!r}]
        print("fine", sorted(loaded))
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "fine []" in done.stdout
    assert len(list((tmp_path / "out").iterdir())) == 1
    assert len(list((tmp_path / "filled").iterdir())) == 3 and (tmp_path / "faces").is_dir()


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["demo", "--port", "0"], "demo"),
        (["stylize-video", "in.mp4", "--model", "starry-level", "--alpha", "0.5", "--out", "o.mp4"], "video"),
        (["data", "avatars", "--out", "faces", "--n", "2"], "faces"),
        (["export", "onnx", "starry-level", "--out", "m.onnx"], "export"),
        (["evaluate", "objective-space", "r.toml", "--photos", ".", "--out", "o"], "studies"),
        (
            ["stylize", "p.jpg", "--model", "starry-level", "--preserve-color", "histogram", "--out", "o"],
            "studies",
        ),
    ],
    ids=["demo", "video", "faces", "export", "evaluate", "histogram"],
)
def test_a_command_that_needs_a_missing_extra_names_it(tmp_path, args, extra):
    done = _run(f"from dynamicnet.cli.main import main; sys.exit(main({args!r}))", tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f'pip install "dynamicnet[{extra}]"' in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "m.onnx").exists()
