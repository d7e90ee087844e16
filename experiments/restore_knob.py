"""How far alpha moves a restore model's result: the quantities the shipped-model check
(tests/models/test_shipped.py, test_restorers_...) bounds.

    python experiments/restore_knob.py runs/sr-x4/model.safetensors runs/denoise-25/model.safetensors

For each model (shipped name or file) it degrades the check's photo as the model was
trained (the astronaut bundled with scikit-image, held out of every recipe, 288 x 384, the
same seed), restores it at alpha 0, 1/8, ..., 1 and prints:

- PSNR at both ends against the classical answer's (alpha 0 must beat it by 0.5 dB; alpha 1
  must give up fidelity: 0.3 dB below alpha 0),
- the mean change from alpha 0 to 1 (in [0, 1] units) against half of alpha 0's own
  remaining error (the check's floor), whether the change grows at every step, and the
  largest / smallest step (under 3),
- the fine detail (``working_point.fine_detail``, 0-255 levels) of alpha 0, alpha 1 and the
  clean photo: alpha 1 must be nearer the clean photo's than alpha 0 is.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import dynamicnet
from dynamicnet.tasks.restore.degrade import enlarge
from dynamicnet.tasks.restore.quality import psnr
from dynamicnet.tasks.restore.working_point import fine_detail


def check_photo() -> torch.Tensor:
    """The shipped-model check's photo (tests/models/test_shipped.py, _held_out_photo)."""
    from skimage import data

    x = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float().div(255).unsqueeze(0)
    x = torch.nn.functional.interpolate(x, size=(384, 384), mode="bilinear", antialias=True)
    return x[..., 48:336, :].clamp(0, 1)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="shipped model names or .safetensors files")
    args = p.parse_args(argv)
    clean = check_photo()
    for name in args.models:
        net = dynamicnet.load(name).eval()
        degraded = net.degradation(clean, np.random.default_rng(0))
        with torch.no_grad():
            outs = [net(degraded, alpha=i / 8) for i in range(9)]
        away = [float((y - outs[0]).abs().mean()) for y in outs]
        steps = [float((b - a).abs().mean()) for a, b in zip(outs, outs[1:])]
        monotone = "monotone" if all(b > a for a, b in zip(away, away[1:])) else "NOT monotone"
        floor = float((clean - outs[0]).abs().mean()) / 2
        classical = "bicubic" if net.scale > 1 else "input"
        detail = [float(fine_detail(y)) for y in (outs[0], outs[-1], clean)]
        print(
            f"{name}: PSNR alpha 0 {psnr(outs[0], clean):.2f} dB, alpha 1 {psnr(outs[-1], clean):.2f} dB, "
            f"{classical} {psnr(enlarge(degraded, net.scale), clean):.2f} dB; alpha 0 to 1 moves it by "
            f"{away[-1]:.4f} (floor {floor:.4f}; {monotone}); largest / smallest step "
            f"{max(steps) / min(steps):.2f}; fine detail alpha 0 {detail[0]:.2f}, alpha 1 {detail[1]:.2f}, "
            f"clean {detail[2]:.2f}"
        )


if __name__ == "__main__":
    main()
