"""How long the demo makes a user wait: full-resolution renders and previews, per shipped model.

    python benchmarks/demo.py [--repeats 5]

Requests go through the demo app in this process (FastAPI's test client, so no network
time), including PNG encoding. The reference is an eager fp32 forward of the same model
on the same photo, measured in the same run; ratios above 1 mean the demo is faster.
"""

from __future__ import annotations

import argparse
import statistics
import time
from io import BytesIO

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
    return p


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(client: TestClient, sample: dict, shipped, repeats: int, preview_side: int) -> dict:
    """Seconds for one model: first render, alpha change, preview, and the eager reference."""
    low, high = shipped.alpha_range

    def render(alpha: float, max_side: int | None = None) -> None:
        body = {"image": sample["id"], "model": shipped.name, "alpha": alpha, "max_side": max_side}
        client.post("/api/render", json=body).raise_for_status()

    out = {"first": timed(lambda: render(high))}  # loads the model, caches the photo's first layers
    alphas = [low + (high - low) * (i + 0.5) / repeats for i in range(repeats)]
    out["change"] = statistics.median(timed(lambda a=a: render(a)) for a in alphas)
    out["preview"] = statistics.median(timed(lambda a=a: render(a, preview_side)) for a in alphas)
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
    print("model             first full render  alpha change (median)  preview  eager forward  speed-up")
    for shipped in shipped_models():
        t = measure(client, sample, shipped, args.repeats, args.preview_side)
        print(
            f"{shipped.name:<17} {t['first']:>13.2f} s  {t['change']:>17.2f} s  {t['preview']:>6.2f} s"
            f"  {t['eager']:>11.2f} s  {t['eager'] / t['change']:>6.2f}x   ({t['size']})"
        )


if __name__ == "__main__":
    main()
