"""Can the completion blocks' patch discriminator tell a filled hole from a photo, and does
counting its patches by the hole (``[adversary] patches = "hole"``) help?

    python experiments/completion_discriminator.py ../shared/data/photos

Trains a fresh ``PatchDiscriminator`` alone, at photo-fill's data settings (128 px crops of
photos scaled to a 192 px shorter side, batch 8, half rectangles and half brush strokes, real
label 0.9), instance-normalised at 2e-4, on clean crops against the same crops with the hole
filled by the network's own starting point (the mean of the smooth and PatchMatch fills).
Every 20 steps it prints the mean scores of photos and of filled crops over the hole's
patches (what the adversarial term can push), for each setting: all patches alike (what
photo-fill was trained with) and patches counted by the hole they cover.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from dynamicnet.data.folder import RandomCrops, list_images
from dynamicnet.data.masks import draw_mask
from dynamicnet.networks.discriminator import PatchDiscriminator
from dynamicnet.tasks.completion.baselines import classical_fills
from dynamicnet.training.adversarial import discriminator_update, patch_weights

BATCH = 8


@torch.no_grad()
def hole_scores(net, real: torch.Tensor, fake: torch.Tensor, hole: torch.Tensor) -> tuple[float, float]:
    net.eval()
    out = []
    for images in (real, fake):
        scores = torch.sigmoid(net(images))
        w = patch_weights(scores, hole)
        out.append(float((scores * w).sum() / w.sum()))
    return out[0], out[1]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", help="a photo folder")
    p.add_argument("--steps", type=int, default=80)
    args = p.parse_args(argv)
    files, _ = list_images(args.photos)
    crops = RandomCrops(files, 128, 192, seed=0)
    fill = classical_fills(0)["mean of smooth and PatchMatch"]
    batches = []  # the same crops and holes for both settings
    for step in range(args.steps + 1):
        clean = torch.stack([crops[0, step * BATCH + i][0] for i in range(BATCH)])
        rng = np.random.default_rng([0, step])
        hole = torch.stack([draw_mask("mixed", rng, 128, 128) for _ in range(BATCH)])
        batches.append((clean, fill(clean, hole).clamp(0, 1), hole))
    for patches in ("all", "hole"):
        torch.manual_seed(0)
        net = PatchDiscriminator(64, "instance")
        optimizer = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))
        for step, (clean, filled, hole) in enumerate(batches):
            real, fake = clean * 2 - 1, filled * 2 - 1
            weight = hole if patches == "hole" else None
            discriminator_update(net, optimizer, real, fake, 0.9, 0.0, weight)
            if step % 20 == 0:
                on_real, on_fake = hole_scores(net, real, fake, hole)
                print(
                    f"patches {patches}, step {step}: over the hole, photos {on_real:.3f}, "
                    f"filled {on_fake:.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
