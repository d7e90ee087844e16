"""Colour preservation: the photo's chroma (luminance) or histograms (histogram), everywhere."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from dynamicnet.cli.main import main
from dynamicnet.inference.color import preserve_color, rgb_to_ycbcr, ycbcr_to_rgb
from dynamicnet.server import create_app


def _images(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    stylized = 0.2 + 0.6 * torch.rand(3, 24, 32, generator=g)
    photo = 0.2 + 0.6 * torch.rand(3, 24, 32, generator=g)
    photo[0] += 0.1  # a reddish photo
    return stylized, photo.clamp(0, 1)


def test_ycbcr_round_trips():
    x = torch.rand(2, 3, 8, 8)
    assert torch.allclose(ycbcr_to_rgb(rgb_to_ycbcr(x)), x, atol=1e-5)


def test_luminance_keeps_the_style_brightness_and_the_photo_chroma():
    stylized, photo = _images()
    stylized, photo = 0.35 + 0.3 * stylized, 0.35 + 0.3 * photo  # inside the gamut: no clipping
    out = preserve_color(stylized, photo, "luminance")
    y_out, y_style, y_photo = rgb_to_ycbcr(out), rgb_to_ycbcr(stylized), rgb_to_ycbcr(photo)
    assert torch.allclose(y_out[0], y_style[0], atol=1e-4)
    assert torch.allclose(y_out[1:], y_photo[1:], atol=1e-4)


def test_histogram_matching_gives_the_photo_palette():
    stylized, photo = _images(1)
    out = preserve_color(stylized, photo, "histogram")
    for c in range(3):
        got, want = out[c].flatten().sort().values, photo[c].flatten().sort().values
        assert (got - want).abs().mean() < 0.01
    assert preserve_color(stylized[None], photo[None], "histogram").shape == (1, 3, 24, 32)
    with pytest.raises(ValueError, match="unknown colour method"):
        preserve_color(stylized, photo, "sepia")


def test_a_photo_of_another_size_is_resized_first():
    stylized, photo = _images(2)
    big = torch.nn.functional.interpolate(photo[None], size=(48, 64), mode="bilinear")[0]
    assert preserve_color(stylized, big).shape == stylized.shape


def test_stylize_and_the_demo_keep_colours_on_request(tiny_model_file, photo_dir, tmp_path, capsys):
    photo = next(photo_dir.glob("*.jpg"))
    out = tmp_path / "out"
    args = ["stylize", str(photo), "--model", str(tiny_model_file), "--alpha", "1", "--out", str(out)]
    assert main(args) == 0 and main([*args, "--preserve-color"]) == 0
    assert main([*args, "--preserve-color", "histogram"]) == 0
    plain = np.asarray(Image.open(out / f"{photo.stem}_alpha=1.png"), dtype=np.float32)
    kept = np.asarray(Image.open(out / f"{photo.stem}_alpha=1_color=luminance.png"), dtype=np.float32)
    assert (out / f"{photo.stem}_alpha=1_color=histogram.png").is_file()
    assert np.abs(plain - kept).mean() > 0.5
    capsys.readouterr()
    assert main([*args, "--preserve-color", "sepia"]) == 2
    assert "invalid choice" in capsys.readouterr().err

    with TestClient(
        base_url="http://127.0.0.1", app=create_app({"tiny": tiny_model_file}, precision="fp32")
    ) as client:
        sample = client.get("/api/samples").json()[0]["id"]
        body = {"image": sample, "model": "tiny", "alpha": 1.0, "max_side": 64}
        a = client.post("/api/render", json=body)
        b = client.post("/api/render", json={**body, "preserve_color": "luminance"})
        assert a.status_code == b.status_code == 200
        pa, pb = (np.asarray(Image.open(io.BytesIO(r.content)), dtype=np.float32) for r in (a, b))
        assert np.abs(pa - pb).mean() > 0.5
        bad = client.post("/api/render", json={**body, "preserve_color": "sepia"})
        assert bad.status_code == 422
