"""How close a set of generated images is to a set of real ones: KID and a diversity score.

Both work on features of a fixed network (any callable from images to (N, D) features);
the GAN study uses globally pooled VGG16 activations of the perceptual network in use, so
numbers are comparable only between runs that name the same weights.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased squared MMD with the cubic kernel k(a, b) = (a.b / d + 1)^3 (the KID kernel)."""
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    yy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(xx + yy - 2 * kxy.mean())


def kid(fake: np.ndarray, real: np.ndarray, subsets: int = 50, subset_size: int = 500, seed: int = 0):
    """Kernel Inception Distance (Binkowski et al. 2018) on given features: (mean, std) over subsets.

    Unbiased, so it can dip below 0 for two samples of one distribution; smaller is closer.
    """
    if len(fake) < 2 or len(real) < 2:
        raise ValueError("KID needs at least 2 samples on each side")
    size = min(subset_size, len(fake), len(real))
    rng = np.random.default_rng(seed)
    values = [
        polynomial_mmd2(
            fake[rng.choice(len(fake), size, replace=False)], real[rng.choice(len(real), size, replace=False)]
        )
        for _ in range(subsets)
    ]
    return float(np.mean(values)), float(np.std(values))


def diversity(features: np.ndarray, pairs: int = 2000, seed: int = 0) -> float:
    """Mean distance between random pairs of samples: collapsed generators score near 0."""
    if len(features) < 2:
        raise ValueError("diversity needs at least 2 samples")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(features), pairs)
    j = (i + rng.integers(1, len(features), pairs)) % len(features)  # never a sample with itself
    return float(np.linalg.norm(features[i] - features[j], axis=1).mean())


class PooledFeatures:
    """Images in [0, 1] (N, 3, H, W) -> globally averaged activations of some layers, concatenated."""

    def __init__(self, network: torch.nn.Module, layers: tuple[str, ...] = ("relu3_3", "relu4_3")) -> None:
        self.network, self.layers = network.eval(), layers

    @torch.no_grad()
    def __call__(self, images: Tensor, batch: int = 64) -> np.ndarray:
        out = []
        for start in range(0, len(images), batch):
            feats = self.network(images[start : start + batch].float())
            out.append(torch.cat([feats[name].mean(dim=(2, 3)) for name in self.layers], dim=1))
        return torch.cat(out).double().numpy()
