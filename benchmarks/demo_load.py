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
    p.add_argument(
        "--largest-parallel", type=int, default=8,
        help="parallel uploads, downloads and previews of the largest accepted upload (0: skip)",
    )  # fmt: skip
    p.add_argument("--no-bursts", action="store_true", help="only the largest-upload phase")
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


def _rss_mib(pid: int) -> float:
    """The process's resident memory now (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _largest_upload(max_pixels: int = 24_000_000) -> bytes:
    """A JPEG of the largest size the demo accepts (6000 x 4000), well under its 25 MB."""
    w, h = 6000, max_pixels // 6000
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / w
    img = np.stack([np.sin(xx * 7), np.cos(yy * 5), xx * yy], -1)
    img = ((img - img.min()) / np.ptp(img) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(img).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


async def _largest_phase(base: str, pid: int, parallel: int, style_model: str) -> dict:
    """``parallel`` uploads of the largest accepted image at once, then as many full-size
    downloads and as many previews of it: the server's peak memory must stay bounded."""
    data = _largest_upload()
    before = _rss_mib(pid)
    _reset_peak(pid)
    timings: dict[str, list[float]] = {"upload": [], "download": [], "preview": []}
    statuses: list[int] = []

    async def timed(kind: str, request) -> httpx.Response:
        start = time.monotonic()
        response = await request
        timings[kind].append(time.monotonic() - start)
        statuses.append(response.status_code)
        return response

    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        uploads = await asyncio.gather(*(
            timed("upload", client.post("/api/images", files={"file": ("big.jpg", data, "image/jpeg")}))
            for _ in range(parallel)
        ))  # fmt: skip
        assert all(r.status_code == 200 for r in uploads), [r.text for r in uploads if r.status_code != 200]
        # the store keeps the newest uploads: one more, and the downloads read that one
        key = (await client.post("/api/images", files={"file": ("big.jpg", data, "image/jpeg")})).json()["id"]
        await asyncio.gather(*(timed("download", client.get(f"/api/images/{key}")) for _ in range(parallel)))
        body = {"image": key, "model": style_model, "alpha": 0.5, "max_side": 384}
        await asyncio.gather(
            *(timed("preview", client.post("/api/render", json=body)) for _ in range(parallel))
        )
    return {
        "upload_mb": len(data) / 2**20, "parallel": parallel, "statuses": sorted(set(statuses)),
        "rss_before_mib": before, "peak_rss_mib": _peak_rss_mib(pid), "rss_after_mib": _rss_mib(pid),
        "p50_s": {k: statistics.median(v) for k, v in timings.items()},
    }  # fmt: skip


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
        if args.largest_parallel > 0:
            report["largest"] = asyncio.run(
                _largest_phase(base, server.pid, args.largest_parallel, warm.style[0])
            )
        bursts = () if args.no_bursts else (("reference", args.reference_clients), ("burst", args.clients))
        for label, clients in bursts:
            _reset_peak(server.pid)
            burst = Burst(base, models, samples, args.slow_share)
            asyncio.run(burst.run(clients, args.seconds))
            report[label] = {"clients": clients, **summarize(burst.results, args.seconds)}
            report[label]["peak_rss_mib"] = _peak_rss_mib(server.pid)
        if bursts:
            report["peak_rss_ratio"] = report["burst"]["peak_rss_mib"] / report["reference"]["peak_rss_mib"]
    finally:
        server.terminate()
        server.wait(30)
    if "largest" in report:
        r = report["largest"]
        print(
            f"largest upload ({r['upload_mb']:.1f} MB JPEG, 6000x4000), {r['parallel']} at once each of "
            f"uploads, full-size downloads and previews: statuses {r['statuses']}; server memory "
            f"{r['rss_before_mib']:.0f} MiB before, peak {r['peak_rss_mib']:.0f} MiB, "
            f"{r['rss_after_mib']:.0f} MiB after; p50 "
            + ", ".join(f"{k} {v:.1f} s" for k, v in r["p50_s"].items())
        )
    for label in [label for label, _ in bursts]:
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
    if bursts:
        ratio = args.clients / args.reference_clients
        print(
            f"peak memory, {args.clients} clients / {args.reference_clients}: "
            f"{report['peak_rss_ratio']:.2f}x (clients {ratio:.0f}x)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
