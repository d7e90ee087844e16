"""How long the demo makes a user wait, per shipped style model: full-resolution renders,
renders at the displayed size, and live-camera frames.

    python benchmarks/demo.py [--repeats 5] [--display-side 880]

Requests go through the demo app in this process (FastAPI's test client, so no network
time), including PNG encoding. The reference is an eager fp32 forward of the same model
on the same photo, measured in the same run; ratios above 1 mean the demo is faster.
"display" is the exact render the page asks for when the slider is released: the photo
at the size it is shown (880 px: a 1280 x 800 desktop). "camera" is the server's side of
the live camera: a 320 x 240 JPEG frame in, a stylized JPEG out, frames per second one
after another (the browser adds capture and drawing).
"""

from __future__ import annotations

import argparse
import statistics
import time
from io import BytesIO

import numpy as np
import torch
from fastapi.testclient import TestClient
from PIL import Image

import dynamicnet
from dynamicnet.data.images import pil_to_tensor
from dynamicnet.models import shipped_models
from dynamicnet.server.app import create_app


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5, help="timed requests per kind (median reported)")
    p.add_argument("--preview-side", type=int, default=384, help="longer side of a preview request")
    p.add_argument("--display-side", type=int, default=880, help="longer side of a display-size render")
    p.add_argument("--models", nargs="*", help="only these shipped models")
    return p


def camera_rate(client: TestClient, model: str, frames: int = 20) -> float:
    """Frames per second through /api/frame, 320 x 240 JPEGs one after another."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:240, 0:320] / 320
    base = np.stack([np.sin(xx * 7), np.cos(yy * 5), xx * yy], -1) * 100 + 128
    jpegs = []
    for i in range(frames):
        buffer = BytesIO()
        frame = (base + rng.normal(0, 8, base.shape) + i).clip(0, 255).astype(np.uint8)
        Image.fromarray(frame).save(buffer, format="JPEG", quality=85)
        jpegs.append(buffer.getvalue())
    url = f"/api/frame?model={model}&alpha=0.7"
    client.post(url, content=jpegs[0]).raise_for_status()  # warm-up
    start = time.perf_counter()
    for data in jpegs:
        client.post(url, content=data, headers={"content-type": "image/jpeg"}).raise_for_status()
    return frames / (time.perf_counter() - start)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(
    client: TestClient, sample: dict, shipped, repeats: int, preview_side: int, display_side: int
) -> dict:
    """Seconds for one model: first render, alpha change, preview, and the eager reference."""
    low, high = shipped.alpha_range

    def render(alpha: float, max_side: int | None = None) -> None:
        body = {"image": sample["id"], "model": shipped.name, "alpha": alpha, "max_side": max_side}
        client.post("/api/render", json=body).raise_for_status()

    out = {"first": timed(lambda: render(high))}  # loads the model, caches the photo's first layers
    alphas = [low + (high - low) * (i + 0.5) / repeats for i in range(repeats)]
    out["change"] = statistics.median(timed(lambda a=a: render(a)) for a in alphas)
    out["preview"] = statistics.median(timed(lambda a=a: render(a, preview_side)) for a in alphas)
    out["display"] = statistics.median(timed(lambda a=a: render(a, display_side)) for a in alphas)
    out["camera"] = camera_rate(client, shipped.name)
    model = dynamicnet.load(shipped.name)
    photo = client.get(f"/api/images/{sample['id']}")
    x = pil_to_tensor(Image.open(BytesIO(photo.content)).convert("RGB")).unsqueeze(0)
    with torch.no_grad():
        out["eager"] = statistics.median(timed(lambda a=a: model(x, alpha=a)) for a in alphas)
    out["size"] = f"{x.shape[-1]}x{x.shape[-2]} px"
    return out


def main() -> None:
    args = get_args_parser().parse_args()
    client = TestClient(base_url="http://127.0.0.1", app=create_app())
    sample = client.get("/api/samples").json()[0]
    print(f"photo: sample {sample['name']!r}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"preview {args.preview_side} px, display {args.display_side} px; camera: frames/s at 320x240")
    print(
        "model                 first full render  alpha change (median)  preview  display  camera"
        "  eager forward  speed-up"
    )
    for shipped in shipped_models():
        if shipped.task != "style" or (args.models and shipped.name not in args.models):
            continue
        t = measure(client, sample, shipped, args.repeats, args.preview_side, args.display_side)
        print(
            f"{shipped.name:<21} {t['first']:>13.2f} s  {t['change']:>17.2f} s  {t['preview']:>6.2f} s"
            f"  {t['display']:>5.2f} s  {t['camera']:>6.1f}  {t['eager']:>11.2f} s"
            f"  {t['eager'] / t['change']:>6.2f}x   ({t['size']})"
        )


if __name__ == "__main__":
    main()
