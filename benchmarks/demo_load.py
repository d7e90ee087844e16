"""The demo under a bounded burst of clients on loopback: served requests, errors, latency, memory.

    python benchmarks/demo_load.py [--clients 50] [--seconds 60] [--reference-clients 5]

The demo server runs in its own process (``dynamicnet demo``, the shipped models). Each
client loops over a random mix of the demo's requests: uploads (some of them sent
slowly, a chunk at a time, as a phone on a bad network would), previews (384 px renders),
full-resolution renders, face grids and completions. A burst with ``--reference-clients``
runs first in the same process; the report gives the server's peak memory in both bursts
and their ratio, which stays near 1 when memory is bounded by the server's render queue
rather than growing with the number of clients.

Targets: no error other than a deliberate 4xx, and a peak-memory ratio well under the
ratio of client counts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=50, help="concurrent clients in the main burst")
    p.add_argument("--seconds", type=float, default=60, help="length of each burst")
    p.add_argument("--reference-clients", type=int, default=5, help="clients in the reference burst")
    p.add_argument("--slow-share", type=float, default=0.1, help="share of uploads sent slowly")
    p.add_argument("--json", help="also write the results here")
    return p


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak(pid: int) -> None:
    """Start a new peak-memory count (Linux: writing 5 to clear_refs resets VmHWM)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:480, 0:640] / 640
    img = np.stack([np.sin(xx * rng.uniform(3, 9)), np.cos(yy * rng.uniform(3, 9)), xx * yy], -1)
    img = ((img - img.min()) / np.ptp(img) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(img).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _hole_url(width: int, height: int) -> str:
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[height // 3 : height // 2, width // 3 : width // 2] = 255
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


class Burst:
    def __init__(self, base: str, models: list[dict], samples: list[dict], slow_share: float) -> None:
        self.base, self.slow_share = base, slow_share
        self.style = [m["name"] for m in models if m["task"] == "style"]
        self.gans = [m["name"] for m in models if m["task"] == "gan"]
        self.fills = [m["name"] for m in models if m["task"] == "completion"]
        self.samples = [s["id"] for s in samples]
        self.uploads = [_jpeg(i) for i in range(4)]
        self.hole = _hole_url(256, 192)
        self.results: list[tuple[str, int, float]] = []  # (kind, status, seconds)

    async def _slow_body(self, data: bytes):
        for i in range(0, len(data), 4096):
            await asyncio.sleep(0.05)
            yield data[i : i + 4096]

    async def _upload(self, client: httpx.AsyncClient, rng: random.Random) -> httpx.Response:
        data = rng.choice(self.uploads)
        if rng.random() < self.slow_share:
            boundary = "dynamicnetloadtest"
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            body = head + data + f"\r\n--{boundary}--\r\n".encode()
            headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
            return await client.post("/api/images", content=self._slow_body(body), headers=headers)
        return await client.post("/api/images", files={"file": ("p.jpg", data, "image/jpeg")})

    async def _one(self, client: httpx.AsyncClient, rng: random.Random) -> tuple[str, httpx.Response]:
        kind = rng.choices(["upload", "preview", "full", "faces", "complete", "bad"], [2, 5, 1, 2, 1, 1])[0]
        image = rng.choice(self.samples)
        if kind == "upload":
            return kind, await self._upload(client, rng)
        if kind in ("preview", "full"):
            body = {"image": image, "model": rng.choice(self.style), "alpha": rng.random()}
            if kind == "preview":
                body["max_side"] = 384
            return kind, await client.post("/api/render", json=body)
        if kind == "faces" and self.gans:
            body = {"model": rng.choice(self.gans), "seed": rng.randrange(1000), "alpha": rng.random()}
            return kind, await client.post("/api/faces", json=body)
        if kind == "complete" and self.fills:
            body = {
                "image": image,
                "model": self.fills[0],
                "mask": self.hole,
                "alpha": rng.random(),
                "max_side": 256,
            }
            return kind, await client.post("/api/complete", json=body)
        # a deliberate mistake: the server must answer 4xx, quickly
        return "bad", await client.post("/api/render", json={"image": image, "model": "nope"})

    async def client(self, seed: int, until: float) -> None:
        rng = random.Random(seed)
        async with httpx.AsyncClient(base_url=self.base, timeout=300) as client:
            while time.monotonic() < until:
                start = time.monotonic()
                try:
                    kind, response = await self._one(client, rng)
                    status = response.status_code
                except httpx.HTTPError:
                    kind, status = "transport", 0
                self.results.append((kind, status, time.monotonic() - start))

    async def run(self, clients: int, seconds: float) -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(*(self.client(i, until) for i in range(clients)))


def summarize(results: list[tuple[str, int, float]], seconds: float) -> dict:
    out = {"requests": len(results), "per_second": len(results) / seconds, "kinds": {}}
    bad = [r for r in results if r[0] != "bad" and r[1] != 200]
    out["unexpected"] = len(bad) + sum(1 for r in results if r[0] == "bad" and not 400 <= r[1] < 500)
    out["error_rate"] = out["unexpected"] / max(1, len(results))
    out["status"] = {str(s): sum(1 for r in results if r[1] == s) for s in sorted({r[1] for r in results})}
    for kind in sorted({r[0] for r in results}):
        times = sorted(r[2] for r in results if r[0] == kind)
        out["kinds"][kind] = {
            "n": len(times),
            "p50_s": statistics.median(times),
            "p95_s": times[min(len(times) - 1, int(0.95 * len(times)))],
        }
    return out


def main(argv=None) -> None:
    args = get_args_parser().parse_args(argv)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dynamicnet.cli.main", "demo", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                models = httpx.get(f"{base}/api/models", timeout=1).json()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("the demo server did not start")
        samples = httpx.get(f"{base}/api/samples").json()
        report = {"machine": f"{os.cpu_count()} cores", "seconds": args.seconds}
        warm = Burst(base, models, samples, 0.0)  # load every model once: memory then measures clients
        for name in warm.style:
            httpx.post(
                f"{base}/api/render",
                json={"image": warm.samples[0], "model": name, "max_side": 64},
                timeout=300,
            )
        for name in warm.gans:
            httpx.post(f"{base}/api/faces", json={"model": name, "n": 1}, timeout=300)
        for name in warm.fills:
            body = {"image": warm.samples[0], "model": name, "mask": warm.hole, "max_side": 256}
            httpx.post(f"{base}/api/complete", json=body, timeout=300)
        for label, clients in (("reference", args.reference_clients), ("burst", args.clients)):
            _reset_peak(server.pid)
            burst = Burst(base, models, samples, args.slow_share)
            asyncio.run(burst.run(clients, args.seconds))
            report[label] = {"clients": clients, **summarize(burst.results, args.seconds)}
            report[label]["peak_rss_mib"] = _peak_rss_mib(server.pid)
        ref, main_burst = report["reference"], report["burst"]
        report["peak_rss_ratio"] = main_burst["peak_rss_mib"] / ref["peak_rss_mib"]
    finally:
        server.terminate()
        server.wait(30)
    for label in ("reference", "burst"):
        r = report[label]
        print(
            f"{label}: {r['clients']} clients, {r['requests']} requests in {args.seconds:g} s "
            f"({r['per_second']:.1f}/s), unexpected errors {r['unexpected']} ({r['error_rate']:.1%}), "
            f"statuses {r['status']}, server peak memory {r['peak_rss_mib']:.0f} MiB"
        )
        for kind, k in r["kinds"].items():
            print(
                f"  {kind:<9} n={k['n']:<5} p50 {k['p50_s'] * 1000:7.0f} ms  p95 {k['p95_s'] * 1000:7.0f} ms"
            )
    ratio = args.clients / args.reference_clients
    print(f"peak memory, {args.clients} clients / {args.reference_clients}: {report['peak_rss_ratio']:.2f}x "
          f"(clients {ratio:.0f}x)")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
