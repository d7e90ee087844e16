"""Can the restore blocks' patch discriminator tell a blurry enlargement from a photo, and
how fast? The adversarial term pushes the sharp end only once it can.

    python experiments/patch_discriminator.py ../shared/data/photos

Trains a fresh ``PatchDiscriminator`` alone, at a restore recipe's settings (96 px crops of
photos scaled to a 512 px shorter side, batch 16, real label 0.9), on clean crops against
their bicubic x4 round trips (shrunk, then enlarged: smoother than any restore model's
result), and prints its mean scores every 20 steps for each setting: plain at the blocks'
learning rate (1e-3, what the restore recipes had) and instance-normalised at 2e-4.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from dynamicnet.data.folder import RandomCrops, list_images
from dynamicnet.networks.discriminator import PatchDiscriminator
from dynamicnet.tasks.restore.degrade import Degradation, enlarge
from dynamicnet.training.adversarial import discriminator_update

SETTINGS = (("none", 1e-3), ("instance", 2e-4))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", help="a photo folder")
    p.add_argument("--steps", type=int, default=120)
    args = p.parse_args(argv)
    files, _ = list_images(args.photos)
    crops = RandomCrops(files, 96, 512, seed=0)
    shrink4 = Degradation(scale=4)
    for norm, lr in SETTINGS:
        torch.manual_seed(0)
        net = PatchDiscriminator(64, norm)
        optimizer = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999))
        for step in range(args.steps + 1):
            clean = torch.stack([crops[0, step * 16 + i][0] for i in range(16)])
            blurry = enlarge(shrink4(clean, np.random.default_rng(step)), 4).clamp(0, 1)
            scores = discriminator_update(net, optimizer, clean * 2 - 1, blurry * 2 - 1, 0.9, 0.0)
            if step % 20 == 0:
                print(
                    f"norm {norm}, lr {lr:g}, step {step}: photos {float(scores['d_real']):.3f}, "
                    f"enlargements {float(scores['d_fake']):.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
