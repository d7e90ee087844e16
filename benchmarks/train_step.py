"""Training-step time of the style task, fp32 vs bf16 autocast, measured in the same run.

    python benchmarks/train_step.py --size 128 --batch 4 --steps 10

Prints the median seconds per step for each precision and the bf16 / fp32 speed ratio.
The step is the real one: Johnson network (main phase, or blocks at alpha = 1 with
--phase tune) + VGG16 to relu4_3, content + Gram style loss, Adam.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dynamicnet.losses.perceptual import StyleLoss, StyleObjective
from dynamicnet.perceptual import load_perceptual
from dynamicnet.tasks.style import model as style


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--phase", choices=["main", "tune"], default="main")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return p


def time_steps(args, precision: str, style_path: Path) -> list[float]:
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = style.build(style.default_config()).to(device).train()
    if args.phase == "main":
        model.net.unfreeze_base()
        params, alpha = list(model.net.base.parameters()), 0.0
    else:
        params, alpha = list(model.net.block_parameters()), 1.0
    vgg, _ = load_perceptual("random")
    criterion = StyleLoss(vgg.to(device), StyleObjective.from_dict({"style": str(style_path)})).to(device)
    optimizer = torch.optim.Adam(params, lr=1e-3)
    x = torch.rand(args.batch, 3, args.size, args.size, device=device)
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
    )
    times = []
    for i in range(args.warmup + args.steps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with autocast:
            loss = criterion(model(x, alpha=alpha), x)["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    args = get_args_parser().parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        style_path = Path(tmp) / "style.png"
        rng = np.random.default_rng(0)
        Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(style_path)
        results = {p: statistics.median(time_steps(args, p, style_path)) for p in ("fp32", "bf16")}
    print(
        f"device={args.device} threads={torch.get_num_threads()} size={args.size} "
        f"batch={args.batch} phase={args.phase}"
    )
    for precision, seconds in results.items():
        print(f"{precision}: {seconds * 1000:.0f} ms/step")
    print(f"bf16 speed-up over fp32: {results['fp32'] / results['bf16']:.2f}x")


if __name__ == "__main__":
    main()
