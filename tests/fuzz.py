"""A seeded mutation fuzzer for the inputs users hand us: image files and model files.

Images: small valid files in every format Pillow writes here, then byte flips, truncations,
inserted bytes and edits of the header (where sizes and counts live). Model files: a valid
model's metadata with keys dropped, values swapped for other types or absurd numbers, or
its JSON text corrupted. Each case goes through the demo's upload endpoint, ``stylize``
and (model files) ``info``. Counted: cases, server answers of 500 or more, exceptions that
escape the command line (a user would see a traceback), and cases slower than a hang
limit.

    python tests/fuzz.py --cases 5000 --seed 1      # thousands; the test suite runs a few hundred
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

FORMATS = {
    "png": ("PNG", {}), "jpg": ("JPEG", {"quality": 80}), "gif": ("GIF", {}), "bmp": ("BMP", {}),
    "tiff": ("TIFF", {}), "webp": ("WEBP", {"quality": 80}), "ico": ("ICO", {}), "ppm": ("PPM", {}),
    "tga": ("TGA", {}), "pcx": ("PCX", {}),
}  # fmt: skip
HANG_SECONDS = 20.0
FAST = ["--precision", "fp32", "--max-side", "32"]  # the input is under test, not the arithmetic


def seed_images() -> dict[str, bytes]:
    """One small valid file per format (a gradient with a few colours)."""
    yy, xx = np.mgrid[0:24, 0:32]
    arr = np.stack([xx * 8, yy * 10, (xx + yy) * 4], -1).astype(np.uint8)
    out = {}
    for ext, (fmt, options) in FORMATS.items():
        buffer = io.BytesIO()
        Image.fromarray(arr).save(buffer, format=fmt, **options)
        out[ext] = buffer.getvalue()
    return out


def mutate_bytes(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One mutation of a file's bytes, and its name."""
    data = bytearray(data)
    kind = rng.choice(["flip", "truncate", "insert", "header", "size-field", "repeat"])
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        data = data[: rng.randrange(1, len(data))]
    elif kind == "insert":
        at = rng.randrange(len(data))
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == "header":  # where the format keeps sizes, counts and offsets
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(min(len(data), 64))] = rng.randrange(256)
    elif kind == "size-field":  # a big number written over 2 or 4 header bytes
        width = rng.choice([2, 4])
        at = rng.randrange(max(1, min(len(data), 64) - width))
        data[at : at + width] = rng.choice(
            [b"\xff" * width, b"\x7f" + b"\xff" * (width - 1), b"\x00" * width]
        )
    else:  # a stretch of the file repeated
        start = rng.randrange(len(data))
        chunk = data[start : start + rng.randint(1, 256)]
        data[start:start] = chunk * rng.randint(1, 8)
    return bytes(data), kind


ODD_VALUES = [None, "", "x" * 300, [], {}, [None, None], -1, 0, 10**9, 1e308, float("nan"), True, [[[[]]]]]


def mutate_metadata(meta: dict, rng: random.Random) -> tuple[str, str]:
    """A model's metadata with one mutation, as JSON text (possibly no longer JSON)."""
    meta = json.loads(json.dumps(meta))
    kind = rng.choice(["drop", "swap", "swap-nested", "text"])
    if kind == "drop":
        meta.pop(rng.choice(sorted(meta)), None)
    elif kind == "swap":
        meta[rng.choice(sorted(meta))] = rng.choice(ODD_VALUES)
    elif kind == "swap-nested":
        tables = [v for v in meta.values() if isinstance(v, dict) and v]
        if tables:
            table = rng.choice(tables)
            key = rng.choice(sorted(table))
            if isinstance(table[key], dict) and table[key] and rng.random() < 0.5:
                table[key][rng.choice(sorted(table[key]))] = rng.choice(ODD_VALUES)
            else:
                table[key] = rng.choice(ODD_VALUES)
    text = json.dumps(meta)
    if kind == "text":
        chars = list(text)
        for _ in range(rng.randint(1, 6)):
            chars[rng.randrange(len(chars))] = rng.choice('{}[]",:0-9eE\\x\x00')
        text = "".join(chars)
    return text, kind


@dataclass
class Tally:
    cases: int = 0
    server_errors: int = 0
    tracebacks: int = 0
    hangs: int = 0
    kinds: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def failed(self, what: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(what)

    def summary(self) -> str:
        return (
            f"{self.cases} cases: {self.server_errors} server answers >= 500, {self.tracebacks} tracebacks, "
            f"{self.hangs} hangs (> {HANG_SECONDS:g} s)"
        )


def _command(argv: list[str], tally: Tally, label: str) -> None:
    """One command-line run in this process: exit 0 or 2 with at most one line on stderr."""
    from dynamicnet.cli.main import main

    err = io.StringIO()
    start = time.monotonic()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
    except BaseException:  # noqa: BLE001 - exactly what the fuzzer counts
        tally.tracebacks += 1
        tally.failed(f"{label}: {traceback.format_exc().strip().splitlines()[-1]}")
        return
    finally:
        if time.monotonic() - start > HANG_SECONDS:
            tally.hangs += 1
            tally.failed(f"{label}: took {time.monotonic() - start:.0f} s")
    lines = err.getvalue().strip().splitlines()
    if code not in (0, 2) or "Traceback" in err.getvalue() or len(lines) > 1:
        tally.tracebacks += 1
        tally.failed(f"{label}: exit {code}: {err.getvalue()[:200]!r}")


def fuzz(cases: int, seed: int, model_file: Path, model_share: float = 0.25) -> Tally:
    """Run ``cases`` mutated inputs (about ``model_share`` of them model files)."""
    from fastapi.testclient import TestClient
    from safetensors import safe_open
    from safetensors.torch import save_file

    from dynamicnet.server import create_app

    rng = random.Random(seed)
    images = seed_images()
    with safe_open(str(model_file), framework="pt") as fh:
        meta = json.loads(fh.metadata()["dynamicnet"])
        weights = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    tally = Tally()
    with (
        tempfile.TemporaryDirectory() as tmp,
        TestClient(create_app({"m": model_file}, precision="fp32"), base_url="http://127.0.0.1") as client,
    ):
        root = Path(tmp)
        photo = root / "photo.png"
        photo.write_bytes(images["png"])
        for case in range(cases):
            tally.cases += 1
            out = root / f"out{case}"
            if rng.random() < model_share:
                text, kind = mutate_metadata(meta, rng)
                tally.kinds[f"model:{kind}"] += 1
                path = root / f"case{case}.safetensors"
                save_file(weights, str(path), metadata={"dynamicnet": text})
                _command(["info", str(path)], tally, f"info {kind} #{case}")
                argv = [
                    "stylize",
                    str(photo),
                    "--model",
                    str(path),
                    "--alpha",
                    "0.5",
                    "--out",
                    str(out),
                    *FAST,
                ]
                _command(argv, tally, f"stylize --model {kind} #{case}")
                path.unlink()
                continue
            ext = rng.choice(sorted(images))
            data, kind = mutate_bytes(images[ext], rng)
            tally.kinds[f"{ext}:{kind}"] += 1
            start = time.monotonic()
            try:
                status = client.post(
                    "/api/images", files={"file": (f"x.{ext}", data, "image/png")}
                ).status_code
            except Exception:  # noqa: BLE001 - the test client re-raises what the app raised
                status = 599
            if status >= 500:
                tally.server_errors += 1
                tally.failed(f"upload {ext}:{kind} #{case}: {status}")
            if time.monotonic() - start > HANG_SECONDS:
                tally.hangs += 1
            path = root / f"case{case}.{ext}"
            path.write_bytes(data)
            argv = [
                "stylize",
                str(path),
                "--model",
                str(model_file),
                "--alpha",
                "0.5",
                "--out",
                str(out),
                *FAST,
            ]
            _command(argv, tally, f"stylize {ext}:{kind} #{case}")
            path.unlink()
    return tally


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--model", help="model file whose metadata is mutated (default: a small random one)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (small images: 1 is enough)")
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(args.model) if args.model else _small_model(Path(tmp))
        start = time.monotonic()
        tally = fuzz(args.cases, args.seed, model)
    print(tally.summary() + f" in {time.monotonic() - start:.0f} s (seed {args.seed})")
    for line in tally.failures:
        print("  " + line)
    return 0 if not (tally.server_errors or tally.tracebacks or tally.hangs) else 1


def _small_model(folder: Path) -> Path:
    """A style model with random weights: the mechanism, not the picture, is under test."""
    import dynamicnet
    from dynamicnet.tasks.style.model import build, default_config

    return dynamicnet.save(build(default_config()), folder / "small.safetensors")


if __name__ == "__main__":
    sys.exit(main())
