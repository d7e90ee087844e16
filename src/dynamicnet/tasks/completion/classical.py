"""Classical fills a completion network can start from, so that training starts from the
classical answer and learns what to add.

- :func:`smooth_fill`: diffusion from the hole's border, coarse to fine, in a few
  convolutions. It measures level with OpenCV's Telea and Navier-Stokes fills on SSIM and
  better on PSNR (docs/results/completion.md), and needs nothing beyond PyTorch. It is
  faithful where the hole is smooth, and blurred where it should be textured.
- :func:`patchmatch_fill`: patches copied from the known pixels (PatchMatch). It has the
  texture the smooth fill lacks, and the wrong structure where no known patch fits.

Their mean is better than either on held-out photos (the completion study scores it), so a
``prefill = "patchmatch"`` network sees both, starts from their mean, and learns to weigh
them per pixel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ...errors import DynamicNetError


def smooth_fill(x: Tensor, mask: Tensor, iterations: int = 48, over_relaxation: float = 1.9) -> Tensor:
    """``x`` (N, C, H, W) with the pixels where ``mask`` (N, 1, H, W) is 1 filled smoothly
    from the known ones (the harmonic fill: each missing pixel the mean of its neighbours);
    the known pixels are returned unchanged.

    Known values and their share are averaged down a pyramid; from the coarsest level up,
    the upsampled fill starts each level and ``iterations`` red-black over-relaxed
    Gauss-Seidel sweeps relax it, each pixel pulled to its known value by its known share
    and to its neighbours' mean by the rest. The fill is then converged: with 24 plain
    (Jacobi) steps per level it was not, and stopping early cost 0.4 dB PSNR and 0.002 SSIM
    on the completion study's held-out rectangles (docs/results/completion.md).
    Cost: about 2.7 x ``iterations`` cheap passes over the image.
    """
    known = 1.0 - mask.to(x.dtype)
    levels = [(x * known, known)]
    while min(levels[-1][1].shape[-2:]) > 4:
        value, share = levels[-1]
        levels.append((F.avg_pool2d(value, 2, ceil_mode=True), F.avg_pool2d(share, 2, ceil_mode=True)))
    value, share = levels[-1]
    seen = share.flatten(1).sum(1).clamp_min(1e-8).view(-1, 1, 1, 1)
    fill = (value.flatten(2).sum(2) / seen.flatten(1)).view(*value.shape[:2], 1, 1).expand_as(value)
    for value, share in reversed(levels):  # value is the known colour times its share
        fill = F.interpolate(fill, size=value.shape[-2:], mode="bilinear", align_corners=False)
        h, w = fill.shape[-2:]
        red = (torch.arange(h).view(-1, 1) + torch.arange(w).view(1, -1)) % 2 == 0
        sweeps = []  # per half: fill <- keep * fill + pull + spread * (sum of the 4 neighbours)
        for half in (red, ~red):
            step = over_relaxation * half.to(x)
            sweeps.append((1 - step, step * value, step * (1 - share) / 4))
        for _ in range(iterations):
            for keep, pull, spread in sweeps:
                edged = F.pad(fill, (1, 1, 1, 1), mode="replicate")
                around = (
                    edged[..., :-2, 1:-1]
                    + edged[..., 2:, 1:-1]
                    + edged[..., 1:-1, :-2]
                    + edged[..., 1:-1, 2:]
                )
                fill = torch.addcmul(torch.addcmul(pull, spread, around), keep, fill)
    return torch.where(mask > 0.5, fill, x)


class PatchMatchUnavailable(DynamicNetError, ImportError):
    """pypatchmatch (a dependency) is missing, or its native library did not load."""


def patchmatch_module():
    """The pypatchmatch module, or :class:`PatchMatchUnavailable` saying how to get it."""
    try:
        import patchmatch
    except ImportError:
        patchmatch = None
    if patchmatch is None or not getattr(patchmatch, "patchmatch_available", False):
        raise PatchMatchUnavailable(
            "this completion model starts from a PatchMatch fill, but pypatchmatch's native library is not "
            "available here: pip install --force-reinstall --no-deps --no-cache-dir PyPatchMatch (where it "
            "has no wheel, that needs a C++17 compiler, CMake and OpenCV's development files)"
        )
    return patchmatch


def patchmatch_fill(x: Tensor, mask: Tensor, seed: int = 0, patch_size: int = 3) -> Tensor:
    """``x`` (N, 3, H, W) in [0, 1] with the pixels where ``mask`` (N, 1, H, W) is 1 filled by
    PatchMatch (Barnes et al. 2009, the pypatchmatch package), on 8-bit pictures.

    PatchMatch's search is random: its generator is reseeded for every image, so the fill
    depends on the image and hole alone (a resumed training sees the same fills). Patches of
    3 pixels measured best on held-out photos (5 and 7 blur and cost more).
    """
    patchmatch = patchmatch_module()
    pixels = (x.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    holes = (mask.detach()[:, 0] > 0.5).to(torch.uint8).cpu().numpy()
    out = []
    for image, hole in zip(pixels, holes):
        patchmatch.set_random_seed(seed)
        out.append(torch.from_numpy(patchmatch.inpaint(image, hole, patch_size=patch_size).copy()))
    filled = torch.stack(out).permute(0, 3, 1, 2).to(x.device, x.dtype) / 255
    failed = _not_copied(filled, x, mask)
    if bool(failed.any()):
        filled = torch.where(failed, smooth_fill(x, mask), filled)
    return torch.where(mask > 0.5, filled, x)


def _not_copied(filled: Tensor, x: Tensor, mask: Tensor) -> Tensor:
    """(N, 1, H, W): hole pixels that PatchMatch cannot have copied from known ones.

    Its fill is a weighted mean of known pixels, so no channel can be darker than that
    channel's darkest known pixel. Where its search found no known patch (a hole that leaves
    only a thin strip known: the strip vanishes from the coarse levels of its pyramid) it
    leaves its empty picture, near-black, which this catches (a photo whose known pixels
    include black cannot be told apart).
    """
    hole = mask > 0.5
    known = torch.where(hole, torch.full_like(x, float("inf")), x.float())
    darkest = known.flatten(2).min(2).values[..., None, None]
    return hole & (filled < darkest - 2.5 / 255).any(1, keepdim=True)
