"""The demo's bounds: bodies refused while they stream, no echo of what was sent, JSON that
is not finite, the Host and Origin checks, EXIF, and a free event loop."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dynamicnet.server import app as server
from dynamicnet.server import context, create_app

LOCAL = "http://127.0.0.1"


@pytest.fixture
def client(tiny_model_file):
    with TestClient(create_app({"tiny": tiny_model_file}, precision="fp32"), base_url=LOCAL) as c:
        yield c


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def _streamed(total: int, chunk: int = 2**16):
    """A body of ``total`` bytes sent in chunks, without a Content-Length."""
    sent = 0
    while sent < total:
        yield b"x" * min(chunk, total - sent)
        sent += chunk


def test_bodies_past_the_limit_are_refused_before_they_are_read(tiny_model_file):
    app = create_app({"tiny": tiny_model_file}, max_upload_bytes=2**20, max_json_bytes=2**16)
    client = TestClient(app, base_url=LOCAL)
    # Content-Length over the limit: refused at once
    r = client.post(
        "/api/images", content=b"x" * (3 * 2**20), headers={"content-type": "multipart/form-data"}
    )
    assert r.status_code == 413 and "1 MB" in r.json()["detail"]
    # no Content-Length: refused by the running count, and the handler never saw the body
    r = client.post("/api/render", content=_streamed(2**22), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "MB" in r.json()["detail"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"alpha": [0.5] * 100_000}, "alpha"),
        ({"alpha": {f"block{i}": 1.0 for i in range(1000)}}, "alpha"),
        ({"model": "m" * 5000}, "model"),
        ({"image": "i" * 5000}, "image"),
    ],
)
def test_long_json_values_get_a_short_422(client, body, field):
    r = client.post("/api/render", json={"image": "x", "model": "tiny", **body})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert field in detail and len(r.content) < 1000


def test_unknown_names_are_not_echoed_at_length(client):
    r = client.post("/api/render", json={"image": "x", "model": "m" * 150})
    assert r.status_code == 404 and len(r.json()["detail"]) < 200


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(
    "path, field",
    [("/api/render", "alpha"), ("/api/render", "max_side"), ("/api/faces", "seed"), ("/api/faces", "n"),
     ("/api/complete", "alpha")],
)  # fmt: skip
def test_non_finite_numbers_get_a_422_with_a_message(client, path, field, value):
    body = '{"image": "x", "model": "tiny", "mask": "data:,", "' + field + '": ' + value + "}"
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["detail"]


def test_only_the_bound_hosts_are_served(tiny_model_file):
    app = create_app({"tiny": tiny_model_file})
    assert TestClient(app, base_url="http://localhost:7860").get("/api/models").status_code == 200
    assert TestClient(app, base_url="http://attacker.example").get("/api/models").status_code == 400
    anyone = create_app({"tiny": tiny_model_file}, allowed_hosts=["*"])
    assert TestClient(anyone, base_url="http://attacker.example").get("/api/models").status_code == 200


def test_cross_origin_posts_are_refused(client):
    files = {"file": ("a.png", _png(8, 8), "image/png")}
    r = client.post("/api/images", files=files, headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    r = client.post("/api/images", files=files, headers={"origin": "null"})
    assert r.status_code == 403
    assert client.post("/api/images", files=files, headers={"origin": LOCAL}).status_code == 200
    assert client.post("/api/images", files=files).status_code == 200  # not from a browser page


def test_uploads_are_oriented_as_a_viewer_shows_them(client):
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    Image.new("RGB", (40, 20), (200, 30, 30)).save(buffer, format="JPEG", exif=exif)
    r = client.post("/api/images", files={"file": ("a.jpg", buffer.getvalue(), "image/jpeg")})
    assert r.json()["width"] == 20 and r.json()["height"] == 40
    shown = Image.open(io.BytesIO(client.get(f"/api/images/{r.json()['id']}").content))
    assert shown.size == (20, 40)


class OddDecoderError(Exception):
    """An exception type no code names, as a plugin's decoder may raise on damaged data."""


def test_any_decoder_failure_is_a_422(client, monkeypatch):
    from PIL import ImageFile

    def broken(self):
        raise OddDecoderError("bad table")

    monkeypatch.setattr(ImageFile.ImageFile, "load", broken)
    r = client.post("/api/images", files={"file": ("a.png", _png(8, 8), "image/png")})
    assert r.status_code == 422 and "damaged" in r.json()["detail"]


def test_uploads_are_decoded_off_the_event_loop(tiny_model_file, monkeypatch):
    slow_decode = context.open_rgb8

    def slow(*args, **kwargs):
        time.sleep(1.0)
        return slow_decode(*args, **kwargs)

    monkeypatch.setattr(context, "open_rgb8", slow)
    with TestClient(create_app({"tiny": tiny_model_file}, max_concurrent=4), base_url=LOCAL) as client:
        files = {"file": ("a.png", _png(16, 16), "image/png")}
        uploads = [threading.Thread(target=client.post, args=("/api/images",), kwargs={"files": files})
                   for _ in range(4)]  # fmt: skip
        for t in uploads:
            t.start()
        time.sleep(0.3)  # the decoders are sleeping now
        start = time.monotonic()
        assert client.get("/api/models").status_code == 200
        waited = time.monotonic() - start
        for t in uploads:
            t.join()
    assert waited < 0.5, f"the model list waited {waited:.2f} s behind the uploads"


def test_downloads_stay_inside_the_memory_budget(tiny_model_file, monkeypatch):
    """Every image-sized buffer of a request is made inside one of ``max_concurrent`` slots."""
    inside, peak = 0, 0
    lock = threading.Lock()
    real_png = server.png

    def counted(image):
        nonlocal inside, peak
        with lock:
            inside += 1
            peak = max(peak, inside)
        time.sleep(0.05)
        try:
            return real_png(image)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(server, "png", counted)
    with TestClient(create_app({"tiny": tiny_model_file}, max_concurrent=2), base_url=LOCAL) as client:
        key = client.post("/api/images", files={"file": ("a.png", _png(64, 48), "image/png")}).json()["id"]
        threads = [threading.Thread(target=client.get, args=(f"/api/images/{key}",)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert peak == 2


def test_two_model_files_with_one_name_are_both_served(tiny_model_file, tmp_path, monkeypatch):
    import shutil

    from dynamicnet.cli import main as cli

    copy = shutil.copy(tiny_model_file, tmp_path / "copy.safetensors")
    served = {}
    monkeypatch.setattr(
        "dynamicnet.server.serve", lambda host, port, models, *rest, **options: served.update(models)
    )
    assert cli.main(["demo", "--model", str(tiny_model_file), "--model", str(copy)]) == 0
    assert len(served) == 2 and set(served.values()) == {tiny_model_file, copy}


def test_decoded_pixels_are_kept_as_bytes(client):
    r = client.post("/api/images", files={"file": ("a.png", _png(30, 10), "image/png")})
    got = np.asarray(Image.open(io.BytesIO(client.get(f"/api/images/{r.json()['id']}").content)))
    assert got.shape == (10, 30, 3) and (got == (90, 120, 60)).all()


def test_the_tab_icon_is_served(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (32, 32)


def test_a_port_in_use_is_one_line_naming_the_option(tiny_model_file, capsys):
    import socket

    from dynamicnet.cli.main import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = main(["demo", "--port", str(port), "--model", str(tiny_model_file)])
    captured = capsys.readouterr()
    assert code == 2 and "--port" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert "demo on" not in captured.out


def test_the_demo_trains_paintings_on_the_photos_it_is_given(
    tiny_model_file, photo_dir, tmp_path, monkeypatch, capsys
):
    from dynamicnet.cli import main as cli

    options = {}
    monkeypatch.setattr(
        "dynamicnet.server.serve", lambda *args, view_options=None, **kw: options.update(view_options or {})
    )
    assert cli.main(["demo", "--model", str(tiny_model_file), "--photos", str(photo_dir)]) == 0
    assert options["style"]["training"]["photos"] == photo_dir.resolve()
    assert cli.main(["demo", "--model", str(tiny_model_file), "--photos", str(tmp_path / "none")]) == 2
    assert "not a folder" in capsys.readouterr().err
