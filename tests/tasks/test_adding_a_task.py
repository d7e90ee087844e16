"""Adding a task: ``example_task`` (a warm tint, in tests/tasks/example_task) is registered
with one line and, with no change to the library, trains, loads, has its own command and
its own view in the demo."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import dynamicnet
from dynamicnet.cli import main as cli
from dynamicnet.tasks import TASKS


@pytest.fixture
def tint(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    from example_task import TASK

    monkeypatch.setitem(TASKS, TASK.name, TASK)  # the one registry line
    return TASK


@pytest.fixture
def tint_model(tint, tmp_path, photo_dir) -> Path:
    recipe = tmp_path / "warm.toml"
    recipe.write_text(
        f'name = "warm"\ntask = "tint"\nwarmth = 0.4\n[data]\nphotos = "{photo_dir}"\n'
        "[train]\ncheckpoint_every = 20\nlog_every = 5\n"
        "[main]\nsteps = 40\n[[tune]]\nsteps = 40\n"
    )
    assert cli.main(["train", str(recipe), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    return tmp_path / "run" / "model.safetensors"


def _warmth(path: Path) -> float:
    """Mean red minus mean blue, in 0-255 levels."""
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=float)
    return float(pixels[..., 0].mean() - pixels[..., 2].mean())


def test_a_registered_task_trains_loads_and_runs_its_own_command(tint_model, tmp_path, photo_dir):
    model = dynamicnet.load(tint_model)
    assert model.task == "tint" and model.block_names == ["block0"]
    photo = photo_dir / "p0.jpg"
    outputs = {}
    for alpha in ("0", "1"):
        outputs[alpha] = tmp_path / f"tinted{alpha}.png"
        assert (
            cli.main(["tint", str(photo), "-m", str(tint_model), "-a", alpha, "-o", str(outputs[alpha])]) == 0
        )
    # the blocks learned the tint: alpha 1 is clearly warmer than alpha 0, which stays near the photo
    assert _warmth(outputs["1"]) > _warmth(outputs["0"]) + 20
    assert abs(_warmth(outputs["0"]) - _warmth(photo)) < 15
    assert cli.main(["info", str(tint_model)]) == 0
    for bad in ("abc", "0,1", "x=1"):  # its own verb reports a bad alpha in one line, as every verb does
        assert (
            cli.main(["tint", str(photo), "-m", str(tint_model), "-a", bad, "-o", str(tmp_path / "t.png")])
            == 2
        )


def test_the_other_commands_refuse_its_models_in_one_line(tint_model, tmp_path, photo_dir, capsys):
    code = cli.main(["stylize", str(photo_dir / "p0.jpg"), "-m", str(tint_model), "-o", str(tmp_path / "s")])
    assert code == 2
    assert "a 'tint' model, not a style model" in capsys.readouterr().err


def test_its_view_is_in_the_demo(tint_model):
    from fastapi.testclient import TestClient

    from dynamicnet.server import create_app

    with TestClient(create_app({"warm": tint_model}), base_url="http://127.0.0.1") as client:
        (listed,) = client.get("/api/models").json()
        assert (listed["task"], listed["view"], listed["endpoint"]) == ("tint", "render", "/api/tint")
        assert listed["explanation"].startswith("alpha 0 is the photo")
        buffer = io.BytesIO()
        Image.new("RGB", (40, 30), (120, 120, 120)).save(buffer, format="PNG")
        key = client.post("/api/images", files={"file": ("grey.png", buffer.getvalue(), "image/png")}).json()[
            "id"
        ]
        r = client.post("/api/tint", json={"image": key, "model": "warm", "alpha": 1.0})
        assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).size == (40, 30)
        r = client.post("/api/render", json={"image": key, "model": "warm"})
        assert r.status_code == 422 and "use /api/tint" in r.text
