"""The demo's HTTP API: renders, limits, and 4xx answers with a message for bad input."""

from __future__ import annotations

import base64
import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

import dynamicnet
from dynamicnet.server import create_app


@pytest.fixture
def model_file(tiny_model_file):
    return tiny_model_file


@pytest.fixture
def client(model_file):
    with TestClient(base_url="http://127.0.0.1", app=create_app({"tiny": model_file}, precision="fp32")) as c:
        yield c


def png_bytes(width: int, height: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    arr = (rng.random((height, width, 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(arr).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client, data: bytes, name: str = "photo.png"):
    return client.post("/api/images", files={"file": (name, data, "image/png")})


def render(client, image: str, **body) -> np.ndarray:
    r = client.post("/api/render", json={"image": image, "model": "tiny", **body})
    assert r.status_code == 200, r.text
    return np.asarray(Image.open(io.BytesIO(r.content)), dtype=np.float32)


def test_models_samples_and_a_render_that_changes_with_alpha(client):
    models = client.get("/api/models").json()
    assert models[0]["name"] == "tiny" and models[0]["alpha_range"] == [0.0, 1.0]
    assert "compare" in models[0]["features"]  # a stylized photo has a before to divide from
    assert "alpha 0" in models[0]["explanation"]
    samples = client.get("/api/samples").json()
    assert len(samples) >= 3
    a0 = render(client, samples[0]["id"], alpha=0.0, max_side=64)
    a1 = render(client, samples[0]["id"], alpha=1.0, max_side=64)
    assert max(a0.shape[:2]) == 64
    assert np.abs(a0 - a1).mean() > 1.0  # the blocks change the picture
    per_block = render(client, samples[0]["id"], alpha=[0.0, 0.0, 1.0], max_side=64)
    assert not np.array_equal(per_block, a1)
    assert client.get("/").text.startswith("<!doctype html>")


def test_upload_renders_at_full_size_matching_the_library(client, model_file):
    info = upload(client, png_bytes(45, 30)).json()
    assert (info["width"], info["height"]) == (45, 30)
    got = render(client, info["id"], alpha=0.5)
    x = torch.from_numpy(np.array(Image.open(io.BytesIO(png_bytes(45, 30))))).permute(2, 0, 1)[None] / 255
    with torch.no_grad():
        expected = dynamicnet.load(model_file)(x.float(), alpha=0.5)[0].clamp(0, 1) * 255
    assert np.abs(got - expected.permute(1, 2, 0).numpy()).max() <= 1.0


def test_the_fast_network_renders_as_the_library_does(tmp_path):
    from dynamicnet.tasks.style import model as style

    torch.manual_seed(0)
    model = style.build(style.default_config("dual", architecture="fast-transformer")).eval()
    with torch.no_grad():
        for p in model.net.block_parameters():
            p.normal_(0, 0.1)
    path = dynamicnet.save(model, tmp_path / "fast.safetensors")
    with TestClient(base_url="http://127.0.0.1", app=create_app({"tiny": path}, precision="fp32")) as fast:
        assert fast.get("/api/models").json()[0]["alpha_range"] == [-1.0, 1.0]
        image = upload(fast, png_bytes(45, 30)).json()["id"]
        got = render(fast, image, alpha=-0.7)
    x = torch.from_numpy(np.array(Image.open(io.BytesIO(png_bytes(45, 30))))).permute(2, 0, 1)[None] / 255
    with torch.no_grad():
        expected = model(x.float(), alpha=-0.7)[0].clamp(0, 1) * 255
    assert np.abs(got - expected.permute(1, 2, 0).numpy()).max() <= 1.0


def test_a_painted_alpha_map_applies_where_painted(client):
    image = upload(client, png_bytes(64, 32)).json()["id"]
    left = np.zeros((32, 64, 4), np.uint8)
    left[:, :32] = 255  # painted (opaque) on the left half
    buffer = io.BytesIO()
    Image.fromarray(left, "RGBA").save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    painted = render(client, image, alpha=1.0, alpha_map=data_url)
    full, none = render(client, image, alpha=1.0), render(client, image, alpha=0.0)
    assert np.abs(painted[:, :8] - full[:, :8]).mean() < np.abs(painted[:, :8] - none[:, :8]).mean()
    assert np.abs(painted[:, -8:] - none[:, -8:]).mean() < np.abs(painted[:, -8:] - full[:, -8:]).mean()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"model": "nope"}, 404, "no model"),
        ({"image": "nope"}, 404, "no image"),
        ({"alpha": [0.1, 0.2]}, 422, "3 blocks"),
        ({"alpha": {"block9": 1}}, 422, "unknown block"),
        ({"max_side": 0}, 422, "max_side"),
        ({"alpha_map": "not a url"}, 422, "data: URL"),
        ({"alpha_map": "data:image/png;base64,AAAA"}, 422, "alpha_map"),
        ({"alpha": [0, 0, 1], "alpha_map": "data:image/png;base64,AAAA"}, 422, "alpha_map"),
    ],
)
def test_bad_render_requests_get_4xx_with_a_message(client, body, status, message):
    sample = client.get("/api/samples").json()[0]["id"]
    r = client.post("/api/render", json={"image": sample, "model": "tiny", "alpha": 0.5, **body})
    assert r.status_code == status
    assert message in str(r.json()["detail"])


def test_bad_uploads_get_4xx(model_file, tmp_path):
    small = TestClient(
        base_url="http://127.0.0.1",
        app=create_app({"tiny": model_file}, max_upload_bytes=4000, max_pixels=5000),
    )
    assert upload(small, b"").status_code == 422
    r = upload(small, b"this is not an image", "notes.png")
    assert r.status_code == 422 and "not an image" in r.json()["detail"]
    r = upload(small, png_bytes(50, 20)[:300])
    assert r.status_code == 422 and "truncated" in r.json()["detail"]
    r = upload(small, png_bytes(80, 80))
    assert r.status_code == 413 and "MB" in r.json()["detail"]
    r = upload(small, _flat_png(100, 100))
    assert r.status_code == 413 and "pixels" in r.json()["detail"]


def _flat_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 90, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploads_are_bounded_and_concurrent_renders_agree(model_file):
    client = TestClient(
        base_url="http://127.0.0.1",
        app=create_app({"tiny": model_file}, max_image_bytes=3 * 40 * 40 * 2, max_concurrent=1),
    )
    ids = [upload(client, png_bytes(40, 40, seed=i)).json()["id"] for i in range(3)]
    assert client.post("/api/render", json={"image": ids[0], "model": "tiny"}).status_code == 404
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda a: render(client, ids[2], alpha=a), [0.3, 0.6] * 3))
    assert np.array_equal(results[0], results[2]) and np.array_equal(results[1], results[3])


@pytest.fixture
def faces_client(model_file, tiny_gan_file):
    with TestClient(
        base_url="http://127.0.0.1",
        app=create_app({"tiny": model_file, "faces": tiny_gan_file}, precision="fp32"),
    ) as c:
        yield c


def faces(client, **body) -> np.ndarray:
    r = client.post("/api/faces", json={"model": "faces", **body})
    assert r.status_code == 200, r.text
    return np.asarray(Image.open(io.BytesIO(r.content)), dtype=np.float32)


def test_faces_grid_follows_alpha_and_seed(faces_client):
    models = {m["name"]: m for m in faces_client.get("/api/models").json()}
    assert models["faces"]["task"] == "gan" and models["tiny"]["task"] == "style"
    assert "Blond_Hair" in models["faces"]["explanation"]
    a0 = faces(faces_client, seed=3, n=16, alpha=0.0)
    assert a0.shape == (256, 256, 3)
    assert faces(faces_client, seed=3, n=5).shape == (128, 192, 3)  # 3 columns, 2 rows
    assert np.array_equal(a0, faces(faces_client, seed=3, n=16, alpha=0.0))
    assert np.abs(a0 - faces(faces_client, seed=3, n=16, alpha=1.0)).mean() > 1.0
    assert np.abs(a0 - faces(faces_client, seed=4, n=16, alpha=0.0)).mean() > 1.0


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/faces", {"model": "tiny"}, "use /api/render"),
        ("/api/faces", {"model": "faces", "n": 0}, "greater than or equal to 1"),
        ("/api/faces", {"model": "faces", "seed": -1}, "greater than or equal to 0"),
        ("/api/faces", {"model": "faces", "alpha": [0.1, 0.2]}, "alpha"),
        ("/api/faces", {"model": "nope"}, "no model"),
    ],
)
def test_bad_faces_requests_are_4xx_with_a_message(faces_client, path, body, message):
    r = faces_client.post(path, json=body)
    assert 400 <= r.status_code < 500 and message in r.text


def test_a_gan_model_is_not_a_photo_renderer(faces_client):
    sample = faces_client.get("/api/samples").json()[0]["id"]
    r = faces_client.post("/api/render", json={"image": sample, "model": "faces"})
    assert r.status_code == 422 and "use /api/faces" in r.text


# --- completion ----------------------------------------------------------------------------
@pytest.fixture
def fill_client(model_file, tiny_completion_file):
    app = create_app({"tiny": model_file, "fill": tiny_completion_file}, precision="fp32")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def hole_png(width: int, height: int, box: tuple[int, int, int, int] | None) -> str:
    """A data URL of a painted hole (opaque white on transparent), as the page sends it."""
    rgba = np.zeros((height, width, 4), np.uint8)
    if box is not None:
        x, y, w, h = box
        rgba[y : y + h, x : x + w] = 255
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_completion_fills_only_the_painted_hole_and_auto_reports_its_alpha(fill_client):
    photo = upload(fill_client, png_bytes(40, 30)).json()["id"]
    original = np.asarray(Image.open(io.BytesIO(fill_client.get(f"/api/images/{photo}").content)))
    body = {"image": photo, "model": "fill", "mask": hole_png(40, 30, (10, 5, 12, 10))}
    r0 = fill_client.post("/api/complete", json={**body, "alpha": 0.0})
    r1 = fill_client.post("/api/complete", json={**body, "alpha": 1.0})
    assert r0.status_code == r1.status_code == 200 and r1.headers["X-Alpha"] == "1"
    a0, a1 = (np.asarray(Image.open(io.BytesIO(r.content))) for r in (r0, r1))
    known = np.ones((30, 40), bool)
    known[5:15, 10:22] = False
    assert np.array_equal(a0[known], original[known]) and np.array_equal(a1[known], original[known])
    assert not np.array_equal(a0[~known], a1[~known])
    auto = fill_client.post("/api/complete", json={**body, "auto": True})
    assert auto.status_code == 200 and 0.0 <= float(auto.headers["X-Alpha"]) <= 1.0
    small = fill_client.post("/api/complete", json={**body, "max_side": 20})  # the mask follows the shrink
    assert small.status_code == 200 and Image.open(io.BytesIO(small.content)).size == (20, 15)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"mask": "nope"}, "mask must be a data: URL"),
        ({"mask": "empty"}, "no pixel as missing"),
        ({"mask": "all"}, "every pixel as missing"),
        ({"alpha": "strong"}, "alpha"),
        ({"model": "tiny"}, "use /api/render"),
        ({"image": "missing"}, "image"),
    ],
)
def test_bad_completion_requests_are_4xx_with_a_message(fill_client, body, message):
    photo = upload(fill_client, png_bytes(16, 12)).json()["id"]
    masks = {"empty": hole_png(16, 12, None), "all": hole_png(16, 12, (0, 0, 16, 12)), "nope": "nope"}
    request = {"image": photo, "model": "fill", "mask": hole_png(16, 12, (2, 2, 4, 4)), **body}
    request["mask"] = masks.get(request["mask"], request["mask"])
    r = fill_client.post("/api/complete", json=request)
    assert 400 <= r.status_code < 500 and message in r.text, r.text
    assert "use /api/complete" in fill_client.post("/api/render", json={"image": photo, "model": "fill"}).text
