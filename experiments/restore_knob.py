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

``--noise 10 50`` also adds Gaussian noise of other sigmas (0-255 levels, seed 0) to the
photo and prints PSNR and fine detail at alpha 0 and 1: how a denoiser trained on one level
copes with others.
"""

from __future__ import annotations

import argparse

import torch

import dynamicnet
from dynamicnet.evaluation.photos import held_out_photo
from dynamicnet.tasks.restore.quality import knob_figures, psnr
from dynamicnet.tasks.restore.working_point import fine_detail


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="shipped model names or .safetensors files")
    p.add_argument("--noise", type=float, nargs="+", default=[], help="other noise sigmas to try")
    args = p.parse_args(argv)
    clean = held_out_photo()
    for name in args.models:
        net = dynamicnet.load(name).eval()
        print(f"{name}: {knob_figures(net, clean).summary()}")
        if args.noise and net.scale > 1:
            print("  --noise tries denoisers: this model enlarges")
            continue
        for sigma in args.noise:
            noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
            noisy = (clean + noise * sigma / 255).clamp(0, 1)
            with torch.no_grad():
                ends = [net(noisy, alpha=a) for a in (0.0, 1.0)]
            detail = [float(fine_detail(y)) for y in (*ends, clean)]
            print(
                f"  sigma {sigma:g}: input {psnr(noisy, clean):.2f} dB; "
                f"alpha 0 {psnr(ends[0], clean):.2f} dB, fine detail {detail[0]:.2f}; "
                f"alpha 1 {psnr(ends[1], clean):.2f} dB, fine detail {detail[1]:.2f} (clean {detail[2]:.2f})"
            )


if __name__ == "__main__":
    main()
