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

import dynamicnet
from dynamicnet.evaluation.photos import held_out_photo
from dynamicnet.tasks.restore.quality import knob_figures


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="shipped model names or .safetensors files")
    args = p.parse_args(argv)
    clean = held_out_photo()
    for name in args.models:
        print(f"{name}: {knob_figures(dynamicnet.load(name).eval(), clean).summary()}")


if __name__ == "__main__":
    main()
