"""Rendering speed and accuracy of the Renderer against a plain eager fp32 forward, same run.

    python benchmarks/render.py --model runs/example-starry-level/model.safetensors

Every ratio compares timings taken in this run on this machine (medians of --repeats):
- full render at --size: Renderer (precision auto) vs eager fp32 ``model(x, alpha)``;
- alpha change on an already-seen image vs the Renderer's own full render (and whether
  the result is identical to a full render);
- an 8-alpha sweep vs 8 eager fp32 forwards;
- keyframe previews (5 and 9 keyframes): deviation from exact renders between keyframes;
- the exported ONNX graph in onnxruntime, for comparison;
- bf16 vs fp32: mean absolute difference on [0, 1] outputs, in 1/255 steps;
- piecewise (tiled) vs whole render at --check-side: PSNR;
- peak memory (process maximum resident set) rendering a --big x --big image, in a fresh
  process.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import dynamicnet
from dynamicnet.data.images import read_image
from dynamicnet.export import export_onnx
from dynamicnet.inference import Renderer
from dynamicnet.inference.renderer import DEFAULT_KEEP_BYTES


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="runs/example-starry-level/model.safetensors")
    p.add_argument("--image", default="examples/photos/skimage-chelsea-cat.jpg")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--check-side", type=int, default=2048, help="side for the tiled-vs-whole check")
    p.add_argument("--big", type=int, default=4096, help="side for the peak-memory run (0: skip)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--big-precision", default="auto", choices=["auto", "fp32", "bf16"],
                   help="Renderer precision of the peak-memory run")  # fmt: skip
    p.add_argument("--peak-memory-run", type=int, help=argparse.SUPPRESS)  # the child process
    return p


def photo(path: str, side: int, device: str) -> torch.Tensor:
    """The photo centre-cropped to a square and resized to side x side."""
    x = read_image(path).unsqueeze(0)
    h, w = x.shape[-2:]
    s = min(h, w)
    x = x[..., (h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    with torch.inference_mode():
        return (
            F.interpolate(x, size=(side, side), mode="bilinear", antialias=side < s).clamp_(0, 1).to(device)
        )


def timed_ms(fn, device: str) -> float:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1000


def interleaved_ms(fns: dict, repeats: int, device: str) -> dict[str, list[float]]:
    """Times of each function, taken in turns (a, b, c, a, b, c, ...) after one warm-up each,
    so that a change in machine load hits every contender alike."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(timed_ms(fn, device))
    return times


def median_ms(fn, repeats: int, device: str) -> float:
    return statistics.median(interleaved_ms({"fn": fn}, repeats, device)["fn"])


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float((a.clamp(0, 1) - b.clamp(0, 1)).square().mean())
    return float("inf") if mse == 0 else 10 * torch.log10(torch.tensor(1 / mse)).item()


def level_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean absolute difference of [0, 1]-clamped images, in 1/255 steps."""
    return float((a.clamp(0, 1) - b.clamp(0, 1)).abs().mean()) * 255


def onnxruntime_forward(model, x: torch.Tensor):
    """The same forward from the exported ONNX graph in onnxruntime (CPU, torch's thread count)."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        report = export_onnx(model, Path(tmp) / "model.onnx", check=False)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        # no busy-waiting threads after a run: they would slow the torch runs taken in turn
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(str(report.path), options, providers=["CPUExecutionProvider"])
    feed = {"image": x.cpu().numpy(), **{name: np.full(1, 0.7, np.float32) for name in report.inputs[1:]}}
    return lambda: session.run(None, feed)


def row(label: str, times: list[float], note: str) -> None:
    spread = f"({min(times):.0f}-{max(times):.0f})"
    print(f"{label:<30} {statistics.median(times):8.1f} ms {spread:>13}   {note}")
    if max(times) > 1.5 * min(times):
        print(f"{'':<30} warning: times vary by more than 1.5x; is something else using the CPU?")


def ratio(reference: list[float], contender: list[float]) -> float:
    return statistics.median(reference) / statistics.median(contender)


def peak_rss_mb() -> float:
    """This process's peak resident set. VmHWM, not ru_maxrss: on Linux ru_maxrss survives
    exec, so a child started by a big parent would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (
        1024 * 1024 if sys.platform == "darwin" else 1024
    )


def peak_memory_child(args) -> None:
    model = dynamicnet.load(args.model, device=args.device)
    x = photo(args.image, args.peak_memory_run, args.device)
    before = peak_rss_mb()
    renderer = Renderer(model, precision=args.big_precision)
    t0 = time.perf_counter()
    y = renderer(x, alpha=0.7)
    seconds = time.perf_counter() - t0
    peak = peak_rss_mb()
    print(
        f"{peak:.0f} {before:.0f} {seconds:.1f} {renderer.precision} {tuple(y.shape)}; {renderer.last_plan}"
    )


def main(argv=None) -> None:
    args = get_args_parser().parse_args(argv)
    if args.peak_memory_run:
        return peak_memory_child(args)
    dev, n = args.device, args.repeats
    model = dynamicnet.load(args.model, device=dev)
    renderer = Renderer(model)
    x = photo(args.image, args.size, dev)
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, {dev}")
    print(f"torch {torch.__version__}; renderer precision: {renderer.precision}; image {args.size} px\n")

    alphas = iter(float(a) for a in torch.linspace(0.05, 1, 1000))

    def eager() -> torch.Tensor:
        with torch.inference_mode():
            return model(x, alpha=next(alphas))

    def full() -> torch.Tensor:
        renderer.clear_cache()
        return renderer(x, alpha=next(alphas))

    def change() -> torch.Tensor:  # the image was rendered just before (by full)
        return renderer(x, alpha=next(alphas))

    t = interleaved_ms({"eager": eager, "full": full, "change": change}, n, dev)
    changed = renderer(x, alpha=0.37)
    renderer.clear_cache()
    exact = torch.equal(changed, renderer(x, alpha=0.37))
    row("eager fp32 forward", t["eager"], "(reference)")
    row("Renderer full render", t["full"], f"{ratio(t['eager'], t['full']):5.2f}x faster (target 1.5x)")
    row(
        "Renderer alpha change",
        t["change"],
        f"{ratio(t['full'], t['change']):5.2f}x faster than its full render (target 1.25x); "
        f"identical to a full render: {exact}",
    )

    sweep = [i / 7 for i in range(8)]

    def eager_sweep() -> list[torch.Tensor]:
        with torch.inference_mode():
            return [model(x, alpha=a) for a in sweep]

    def renderer_sweep() -> list[torch.Tensor]:
        renderer.clear_cache()
        return renderer.sweep(x, sweep)

    t = interleaved_ms({"eager": eager_sweep, "sweep": renderer_sweep}, max(1, n // 2), dev)
    row("8 eager fp32 forwards", t["eager"], "(reference)")
    row("Renderer 8-alpha sweep", t["sweep"], f"{ratio(t['eager'], t['sweep']):5.2f}x faster (target 1.8x)\n")

    between = [i / 32 for i in range(33)]
    exact_renders = renderer.sweep(x, between)
    for k in (5, 9):
        frames = renderer.keyframes(x, [i / (k - 1) for i in range(k)])
        t_blend = median_ms(lambda frames=frames: frames.preview(0.4321), n, dev)
        diffs = [level_diff(frames.preview(a), e) for a, e in zip(between, exact_renders)]
        worst = min(psnr(frames.preview(a), e) for a, e in zip(between, exact_renders))
        print(
            f"{k} keyframes: preview {t_blend:6.1f} ms; vs exact renders at 33 alphas in [0, 1]: "
            f"mean |diff| {statistics.mean(diffs):.2f}/255 (worst alpha {max(diffs):.2f}/255), "
            f"lowest PSNR {worst:.1f} dB"
        )

    exact_renderer = Renderer(model, precision="fp32")
    fast = Renderer(model, precision="bf16") if renderer.precision == "fp32" else renderer
    devs = [level_diff(fast(x, alpha=a), exact_renderer(x, alpha=a)) for a in (0.0, 0.5, 1.0)]
    t = interleaved_ms({"eager": eager, "ort": onnxruntime_forward(model, x)}, n, dev)
    row(
        "onnxruntime fp32 (exported)", t["ort"], f"{ratio(t['eager'], t['ort']):5.2f}x faster than eager fp32"
    )
    listed = ", ".join(f"{d:.2f}" for d in devs)
    print(f"\nbf16 vs fp32 at alpha 0, 0.5, 1: mean |diff| {listed} /255 (limit 1/255)")

    if args.check_side:
        big = photo(args.image, args.check_side, dev)
        whole_renderer = Renderer(model, max_pixels=10**12)
        # keep_bytes shrunk with the image area, so that the same layers run in tiles as at 4096 px
        keep = int(DEFAULT_KEEP_BYTES * (args.check_side / 4096) ** 2)
        tiled_renderer = Renderer(model, max_pixels=1, keep_bytes=keep)
        t0 = time.perf_counter()
        whole = whole_renderer(big, alpha=0.7)
        t_whole = time.perf_counter() - t0
        t0 = time.perf_counter()
        tiled = tiled_renderer(big, alpha=0.7)
        t_tiled = time.perf_counter() - t0
        print(
            f"{args.check_side} px: piecewise vs whole render PSNR {psnr(tiled, whole):.1f} dB (target 40); "
            f"whole {t_whole:.1f} s, piecewise {t_tiled:.1f} s ({tiled_renderer.last_plan})"
        )
        if "in tiles" not in tiled_renderer.last_plan:
            print("warning: nothing ran in tiles, so this check tested nothing; use a larger --check-side")
        del big, whole, tiled

    if args.big:
        cmd = [sys.executable, __file__, "--model", args.model, "--image", args.image, "--device", dev,
               "--big-precision", args.big_precision]  # fmt: skip
        out = subprocess.run(
            [*cmd, "--peak-memory-run", str(args.big)], capture_output=True, text=True, check=True
        )
        numbers, plan = out.stdout.strip().split("; ", 1)
        peak, before, seconds, precision, shape = numbers.split(maxsplit=4)
        print(
            f"{args.big} px ({precision}): peak memory {float(peak) / 1024:.2f} GB for the whole process "
            f"({float(before) / 1024:.2f} GB before rendering: model, input), {seconds} s, "
            f"output {shape}; plan: {plan}"
        )


if __name__ == "__main__":
    main()
