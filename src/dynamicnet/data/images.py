"""Reading and writing images as float RGB tensors in [0, 1].

Every Pillow mode is accepted (L, LA, P, RGBA, CMYK, 16-bit, float) and EXIF
orientation is applied, so what the user sees in a viewer is what the network gets.
Transparent pixels are composited over white.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor

from ..errors import DynamicNetError
from ..io.atomic import atomic_write

Image.MAX_IMAGE_PIXELS = 40_000 * 40_000  # huge photos are legitimate input


class ImageReadError(DynamicNetError, ValueError):
    """A file that is missing, not an image, or damaged."""


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """float32 H x W x 3 in [0, 1] for any Pillow mode."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        grey = np.asarray(img, dtype=np.float32)
        scale = 65535.0 if mode != "I" or grey.max(initial=0) > 255 else 255.0
        grey = np.clip(grey / scale, 0.0, 1.0)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "F":
        grey = np.asarray(img, dtype=np.float32)
        peak = grey.max(initial=0)
        grey = np.clip(grey / (255.0 if peak > 1.0 else 1.0), 0.0, 1.0)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "P" or mode == "PA":
        img = img.convert("RGBA")
    elif mode == "1":
        img = img.convert("L")
    if img.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3:4]
        return rgba[..., :3] * alpha + (1.0 - alpha)
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def open_image(path: str | Path) -> Image.Image:
    """Open, fully decode and orient an image; raise :class:`ImageReadError` with the reason."""
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, not an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                img.load()
                return ImageOps.exif_transpose(img)
    except Image.DecompressionBombError as err:
        raise ImageReadError(f"{path}: image too large ({err})") from err
    except (OSError, SyntaxError, ValueError) as err:
        reason = "not an image" if "cannot identify" in str(err) else f"damaged image ({err})"
        raise ImageReadError(f"{path}: {reason}") from err


def to_rgb8(img: Image.Image) -> Image.Image:
    """An 8-bit RGB version of any image (transparency over white, 16-bit scaled down)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("L", "CMYK", "YCbCr", "LAB", "HSV"):
        return img.convert("RGB")
    return Image.fromarray((_to_rgb_array(img) * 255).round().astype(np.uint8), "RGB")


def pil_to_tensor(img: Image.Image) -> Tensor:
    """(3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(_to_rgb_array(img).transpose(2, 0, 1)))


def read_image(path: str | Path, max_side: int | None = None) -> Tensor:
    """Read any image file as a (3, H, W) float tensor, optionally shrunk so its longer side <= max_side."""
    img = open_image(path)
    if max_side is not None and max(img.size) > max_side:
        img = resize_longer(img, max_side)
    return pil_to_tensor(img)


def resize_longer(img: Image.Image, side: int) -> Image.Image:
    scale = side / max(img.size)
    return img.resize(_scaled(img.size, scale), Image.Resampling.LANCZOS, reducing_gap=3.0)


def resize_shorter(img: Image.Image, side: int) -> Image.Image:
    scale = side / min(img.size)
    return img.resize(_scaled(img.size, scale), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def tensor_to_pil(x: Tensor) -> Image.Image:
    """(3, H, W) float -> 8-bit RGB image; values are clamped to [0, 1] here and only here."""
    arr = x.detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(arr, "RGB")


def atomic_save(img: Image.Image, path: str | Path, **kwargs) -> None:
    """Write an image so that ``path`` is either absent or complete, never half-written."""
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown image extension {path.suffix!r}")
    atomic_write(path, lambda tmp: img.save(tmp, format=fmt, **kwargs))


def write_image(x: Tensor, path: str | Path) -> None:
    """Write a (3, H, W) tensor as an 8-bit image, format chosen by the extension."""
    fmt = Path(path).suffix.lower()
    extra = {"quality": 95} if fmt in (".jpg", ".jpeg") else {}
    atomic_save(tensor_to_pil(x), path, **extra)
