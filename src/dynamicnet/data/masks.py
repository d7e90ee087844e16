"""Hole masks for image completion: (1, H, W) float tensors, 1 where a pixel is missing.

Training draws masks from a seeded generator per step, so a resumed run sees the same
holes. Users give a box (``x,y,w,h``) or a mask image; both are checked here so every
entry point reports the same clear message.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor

from ..errors import DynamicNetError
from .images import ImageReadError, open_image

MASK_KINDS = ("centre", "box", "free", "mixed")


class MaskError(DynamicNetError, ValueError):
    """A mask that cannot describe a hole in this image."""


def centre_square(h: int, w: int, fraction: float = 0.5) -> Tensor:
    """The paper's hole: a centred square whose side is ``fraction`` of the shorter side."""
    side = max(1, round(min(h, w) * fraction))
    top, left = (h - side) // 2, (w - side) // 2
    mask = torch.zeros(1, h, w)
    mask[:, top : top + side, left : left + side] = 1.0
    return mask


def random_box(rng: np.random.Generator, h: int, w: int, low: float = 0.25, high: float = 0.5) -> Tensor:
    """One rectangle with sides between ``low`` and ``high`` of the image's sides, anywhere."""
    bh = int(rng.integers(max(1, round(h * low)), max(2, round(h * high)) + 1))
    bw = int(rng.integers(max(1, round(w * low)), max(2, round(w * high)) + 1))
    top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
    mask = torch.zeros(1, h, w)
    mask[:, top : top + bh, left : left + bw] = 1.0
    return mask


def free_form(rng: np.random.Generator, h: int, w: int, strokes: int = 4) -> Tensor:
    """Brush strokes as a user would paint them: a few random walks with a thick brush."""
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    side = min(h, w)
    for _ in range(int(rng.integers(1, strokes + 1))):
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        width = int(rng.uniform(0.06, 0.14) * side) + 1
        points = [(x, y)]
        for _ in range(int(rng.integers(3, 8))):
            angle, length = rng.uniform(0, 2 * math.pi), rng.uniform(0.1, 0.3) * side
            x = float(np.clip(x + length * math.cos(angle), 0, w - 1))
            y = float(np.clip(y + length * math.sin(angle), 0, h - 1))
            points.append((x, y))
        draw.line(points, fill=255, width=width, joint="curve")
        for px, py in points:
            r = width / 2
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    return torch.from_numpy(np.asarray(canvas, dtype=np.float32) / 255.0).round()[None]


def draw_mask(kind: str, rng: np.random.Generator, h: int, w: int, fraction: float = 0.5) -> Tensor:
    """A training hole of ``kind`` (see :data:`MASK_KINDS`)."""
    if kind == "centre":
        return centre_square(h, w, fraction)
    if kind == "box":
        return random_box(rng, h, w, fraction / 2, fraction)
    if kind == "free":
        return free_form(rng, h, w)
    if kind == "mixed":  # what users draw: rectangles and brush strokes
        return draw_mask("box" if rng.random() < 0.5 else "free", rng, h, w, fraction)
    raise MaskError(f"unknown mask kind {kind!r} (use {', '.join(MASK_KINDS)})")


def parse_box(text: str, h: int, w: int) -> Tensor:
    """``x,y,w,h`` in pixels (x, y the top-left corner) as a mask for an ``h`` x ``w`` image."""
    text = text.strip()
    try:
        x, y, bw, bh = (int(v) for v in text.split(","))
    except ValueError:
        raise MaskError(f"--box {text!r}: expected x,y,w,h as four whole numbers, e.g. 32,32,64,64") from None
    if bw < 1 or bh < 1:
        raise MaskError(f"--box {text!r}: width and height must be at least 1 pixel")
    if x < 0 or y < 0 or x + bw > w or y + bh > h:
        raise MaskError(f"--box {text!r}: the box leaves the {w}x{h} image")
    if bw == w and bh == h:
        raise MaskError(f"--box {text!r}: the box covers the whole {w}x{h} image: nothing to fill from")
    mask = torch.zeros(1, h, w)
    mask[:, y : y + bh, x : x + bw] = 1.0
    return check_mask(mask, h, w)


def read_mask(path: str | Path, h: int, w: int) -> Tensor:
    """A mask image (white or opaque = missing, black or transparent = known) of the image's size."""
    try:
        img = open_image(path)
    except ImageReadError as err:
        raise MaskError(f"mask {err}") from None
    if img.size != (w, h):
        raise MaskError(f"mask {path}: it is {img.size[0]}x{img.size[1]} but the image is {w}x{h}")
    return check_mask(torch.from_numpy((mask_values(img) >= 128).astype(np.float32))[None], h, w)


def mask_values(img: Image.Image) -> np.ndarray:
    """0-255 per pixel, high = missing: the alpha channel where it varies (a hole painted on a
    transparent layer), else the grey level (white on black, as editors export masks)."""
    if img.mode in ("RGBA", "LA", "PA", "P") or "transparency" in img.info:
        alpha = np.asarray(img.convert("RGBA"), dtype=np.float32)[..., 3]
        if alpha.min() < alpha.max():
            return alpha
    return np.asarray(img.convert("L"), dtype=np.float32)


def check_mask(mask: Tensor, h: int, w: int) -> Tensor:
    """``mask`` as (N, 1, H, W) or (1, H, W) of 0/1, or a :class:`MaskError` saying what is wrong."""
    if mask.dim() not in (3, 4) or mask.shape[-3] != 1:
        raise MaskError(f"a mask has shape (N, 1, H, W) or (1, H, W), got {tuple(mask.shape)}")
    if tuple(mask.shape[-2:]) != (h, w):
        raise MaskError(f"the mask is {mask.shape[-1]}x{mask.shape[-2]} but the image is {w}x{h}")
    if not torch.isfinite(mask).all() or mask.min() < 0 or mask.max() > 1:
        hint = " (divide a 0-255 mask by 255)" if mask.max() == 255 else ""
        raise MaskError(f"mask values must lie in [0, 1] (1 = missing){hint}")
    mask = (mask >= 0.5).to(mask.dtype if mask.is_floating_point() else torch.float32)
    missing = mask.flatten(1).sum(1) if mask.dim() == 4 else mask.sum()[None]
    for count, problem in ((0, "no pixel as missing: nothing to complete"),
                           (h * w, "every pixel as missing: there is nothing to complete from")):  # fmt: skip
        bad = (missing == count).nonzero().flatten().tolist()
        if bad:
            which = f" of image {bad[0]}" if len(missing) > 1 else ""
            raise MaskError(f"the mask{which} marks {problem}")
    return mask
