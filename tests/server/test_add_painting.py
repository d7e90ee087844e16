"""The demo's "add your painting": a style model trained in a process of its own, one at a
time, previewed, cancelled, and served once saved. Real trainings are tiny
(tiny_new_style.py); the rest use stand-in commands that start in a blink."""

from __future__ import annotations

import io
import os
import struct
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dynamicnet.server import create_app
from dynamicnet.tasks.style.web import Training

TINY_COMMAND = (sys.executable, str(Path(__file__).with_name("tiny_new_style.py")))


def make_client(model_file: Path, photos: Path, command=TINY_COMMAND) -> TestClient:
    training = Training(command=tuple(command), photos=photos, perceptual="random")
    app = create_app({"tiny": model_file}, precision="fp32", view_options={"style": {"training": training}})
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture
def client(tiny_model_file, photo_dir, user_home):
    with make_client(tiny_model_file, photo_dir) as c:  # leaving it stops a training under way
        yield c


def painting(width: int = 160, height: int = 128, seed: int = 5) -> bytes:
    yy, xx = np.mgrid[0:height, 0:width] / max(width, height)
    rng = np.random.default_rng(seed)
    arr = (
        np.stack([np.sin(xx * 7), np.cos(yy * 5), xx * yy], -1) * 0.4
        + 0.5
        + rng.normal(0, 0.1, (height, width, 3))
    )
    buffer = io.BytesIO()
    Image.fromarray((arr.clip(0, 1) * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def start(client, data: bytes | None = None, filename: str = "Water Lilies.png", **form):
    fields = {"name": "my-painting", "knob": "level", "minutes": "1", **form}
    files = {"file": (filename, painting() if data is None else data, "image/png")}
    return client.post("/api/new-style", data=fields, files=files)


def wait_for(client, done, timeout: float = 120) -> tuple[dict, list[dict]]:
    """The training's status once ``done(status)``, and every status seen on the way."""
    seen = []
    end = time.time() + timeout
    while time.time() < end:
        r = client.get("/api/new-style")
        assert r.status_code == 200, r.text
        seen.append(r.json()["training"])
        if done(seen[-1]):
            return seen[-1], seen
        time.sleep(0.1)
    raise AssertionError(f"timed out; last status: {seen[-1]}")


def test_a_painting_trains_in_the_background_shows_how_far_it_is_and_its_model_is_served(
    client, user_home, monkeypatch
):
    hold = user_home.parent / "hold"  # while it exists, the trained run waits before saving
    hold.touch()
    monkeypatch.setenv("NEW_STYLE_HOLD", str(hold))
    assert client.get("/api/new-style").json()["training"] is None
    assert client.post("/api/new-style/cancel").status_code == 409  # nothing to cancel yet
    r = start(client)
    assert r.status_code == 202, r.text
    run = r.json()
    assert (run["state"], run["name"], run["painting"]) == ("running", "my-painting", "Water Lilies.png")
    again = start(client, name="another")  # one training at a time
    assert again.status_code == 409 and "under way" in again.json()["detail"]

    held, seen = wait_for(client, lambda t: t["checkpoint"] is not None and t["phase"] == "measuring")
    assert held["state"] == "running" and held["done"] == held["total"] == 2
    assert all(t["seconds_left"] >= 0 for t in seen if t["seconds_left"] is not None)
    sample = client.get("/api/samples").json()[0]["id"]

    def preview(**params):
        return client.get("/api/new-style/preview", params={"image": sample, **params})

    a0, a1 = preview(alpha=0, max_side=64), preview(alpha=1, max_side=64)  # from the checkpoint
    assert a0.status_code == a1.status_code == 200, a0.text
    pixels = [np.asarray(Image.open(io.BytesIO(r.content)), dtype=np.float32) for r in (a0, a1)]
    assert max(pixels[0].shape[:2]) == 64 and np.abs(pixels[0] - pixels[1]).mean() > 0.5
    assert preview(max_side=4096).status_code == 422
    assert preview(alpha="strong").status_code == 422
    assert client.get("/api/new-style/preview", params={"image": "nope"}).status_code == 404

    hold.unlink()
    final, _ = wait_for(client, lambda t: t["state"] != "running")
    assert final["state"] == "finished" and final["model"] == "my-painting", final
    assert (user_home / "models" / "my-painting.safetensors").is_file()
    assert not (user_home / "training" / "my-painting").exists()
    models = {m["name"]: m for m in client.get("/api/models").json()}  # served without a restart
    assert "Water Lilies" in models["my-painting"]["description"]
    rendered = client.post("/api/render", json={"image": sample, "model": "my-painting", "max_side": 48})
    assert rendered.status_code == 200 and max(Image.open(io.BytesIO(rendered.content)).size) == 48
    assert preview(max_side=40).status_code == 200  # now from the saved model
    taken = start(client)  # a model of that name exists now
    assert taken.status_code == 422 and "already have a model" in taken.json()["detail"]


# A stand-in for the training process: it leaves what a run stopped half-way leaves (its
# run folder, a card without its model, a temporary file), says where it runs, and sleeps.
HALF_WAY = """
import os, pathlib, sys, time
name = sys.argv[sys.argv.index("--name") + 1]
home = pathlib.Path(os.environ["DYNAMICNET_HOME"])
(home / "training" / name).mkdir(parents=True)
(home / "training" / name / "checkpoint.pt").write_bytes(b"weights")
(home / "models").mkdir(exist_ok=True)
(home / "models" / (name + ".md")).write_text("a card")
(home / "models" / ("." + name + ".safetensors.x1.tmp")).write_bytes(b"a model cut short")
(home.parent / "pid").write_text(str(os.getpid()))
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_cancel_and_shutdown_end_the_process_and_leave_nothing_half_written(
    tiny_model_file, photo_dir, user_home
):
    pid_file = user_home.parent / "pid"
    with make_client(tiny_model_file, photo_dir, (sys.executable, "-c", HALF_WAY)) as client:
        (user_home / "models").mkdir(parents=True)
        (user_home / "models" / "other.md").write_text("another model's card")
        assert start(client).status_code == 202
        wait_for(client, lambda t: pid_file.is_file() and pid_file.read_text())
        pid = int(pid_file.read_text())
        assert _alive(pid) and (user_home / "training" / "my-painting").is_dir()
        r = client.post("/api/new-style/cancel")
        assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
        assert not _alive(pid)
        assert not (user_home / "training" / "my-painting").exists()
        assert sorted(p.name for p in (user_home / "models").iterdir()) == ["other.md"]
        assert client.get("/api/new-style").json()["training"]["state"] == "cancelled"
        assert "my-painting" not in {m["name"] for m in client.get("/api/models").json()}
        sample = client.get("/api/samples").json()[0]["id"]
        gone = client.get("/api/new-style/preview", params={"image": sample})
        assert gone.status_code == 404 and "cancelled" in gone.json()["detail"]
        assert client.post("/api/new-style/cancel").status_code == 409

        pid_file.unlink()
        assert start(client, name="second").status_code == 202  # the slot is free again
        wait_for(client, lambda t: pid_file.is_file() and pid_file.read_text())
        pid = int(pid_file.read_text())
    assert not _alive(pid)  # the server stopping stops its training, and tidies up after it
    assert not (user_home / "training" / "second").exists()

    complaint = "print('dynamicnet new-style: error: the photos folder is empty', file=sys.stderr)"
    failing = (sys.executable, "-c", f"import sys; {complaint}; sys.exit(2)")
    with make_client(tiny_model_file, photo_dir, failing) as client:
        assert start(client).status_code == 202
        final, _ = wait_for(client, lambda t: t["state"] != "running")
        assert final["state"] == "failed" and final["error"] == "the photos folder is empty", final
        assert start(client).status_code == 202  # a failed training frees the slot


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels (its pixels never come)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 64))


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"data": b"this is not a picture"}, 422, "not an image"),
        ({"data": b""}, 422, "empty"),
        ({"data": "tiny"}, 422, "too small"),
        ({"data": "huge"}, 413, "pixels"),
        ({"data": "heavy"}, 413, "MB"),
        ({"name": "Bad Name"}, 422, "lower-case words"),
        ({"name": "-x"}, 422, "lower-case words"),
        ({"name": "x" * 65}, 422, "lower-case words"),
        ({"name": "starry-level"}, 422, "shipped model"),
        ({"name": "tiny"}, 422, "already have a model"),  # served by this server
        ({"name": "mine"}, 422, "already have a model"),  # in the user's folder
        ({"name": "unfinished"}, 422, "unfinished training"),
        ({"knob": "huge"}, 422, "knob must be one of level, scale"),
        ({"minutes": "0"}, 422, "minutes must be 1 to 30"),
        ({"minutes": "31"}, 422, "minutes must be 1 to 30"),
        ({"minutes": "nan"}, 422, "minutes must be 1 to 30"),
        ({"minutes": "soon"}, 422, "minutes"),
        ({"name": ""}, 422, "name"),
    ],
)
def test_bad_starts_get_4xx_with_a_message_and_start_nothing(client, user_home, change, status, message):
    (user_home / "models").mkdir(parents=True)
    (user_home / "models" / "mine.safetensors").write_bytes(b"a model of the user's")
    (user_home / "training" / "unfinished").mkdir(parents=True)
    data = {
        "tiny": painting(100, 90),
        "huge": _png_header(6000, 5000),
        "heavy": b"\0" * (26 * 2**20),
    }.get(change.get("data"), change.get("data"))
    r = start(client, data, **{k: v for k, v in change.items() if k != "data"})
    assert r.status_code == status and message in r.json()["detail"], r.text
    assert len(r.json()["detail"].splitlines()) == 1
    assert client.get("/api/new-style").json()["training"] is None
    assert sorted(p.name for p in (user_home / "training").iterdir()) == ["unfinished"]


def test_the_page_learns_the_choices_and_a_missing_photo_folder_is_said_up_front(
    tiny_model_file, photo_dir, user_home, monkeypatch
):
    with make_client(tiny_model_file, photo_dir) as client:
        s = client.get("/api/new-style").json()
    assert s["available"] and set(s["knobs"]) == {"level", "scale"} and s["minutes"] == [1, 30]
    from dynamicnet.tasks.style import new_style as ns

    monkeypatch.setattr(ns, "_repo_recipe", lambda name: Path("/nonexistent") / f"{name}.toml")
    app = create_app({"tiny": tiny_model_file}, precision="fp32")  # the shipped models' photos
    with TestClient(app, base_url="http://127.0.0.1") as client:
        s = client.get("/api/new-style").json()
        assert not s["available"] and "photos" in s["reason"]
        r = start(client)
        assert r.status_code == 409 and "photos" in r.json()["detail"]
