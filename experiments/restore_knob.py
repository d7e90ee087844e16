"""How far alpha moves a restore model's result: the quantities the shipped-model check
(tests/models/test_shipped.py, test_restorers_beat_the_classical_answer_...) bounds.

    python experiments/restore_knob.py runs/sr-x4/model.safetensors runs/denoise-25/model.safetensors

For each model (shipped name or file) it degrades the check's photo as the model was
trained (the astronaut bundled with scikit-image, held out of every recipe, 288 x 384, the
same seed), restores it at alpha 0, 1/8, ..., 1 and prints PSNR at both ends against the
classical answer's, the mean change from alpha 0 (in [0, 1] units; the check asks for 0.02,
i.e. 5/255), whether that change grows at every step, and the largest / smallest step.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import dynamicnet
from dynamicnet.tasks.restore.degrade import enlarge
from dynamicnet.tasks.restore.quality import psnr


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
        classical = "bicubic" if net.scale > 1 else "input"
        print(
            f"{name}: PSNR alpha 0 {psnr(outs[0], clean):.2f} dB, alpha 1 {psnr(outs[-1], clean):.2f} dB, "
            f"{classical} {psnr(enlarge(degraded, net.scale), clean):.2f} dB; alpha 0 to 1 moves it by "
            f"{away[-1]:.4f} ({monotone}); largest / smallest step {max(steps) / min(steps):.2f}"
        )


if __name__ == "__main__":
    main()
