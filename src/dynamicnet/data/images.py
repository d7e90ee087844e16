"""Reading and writing images as float RGB tensors in [0, 1].

Every Pillow mode is accepted (L, LA, P, RGBA, CMYK, 16-bit, float) and EXIF
orientation is applied, so what the user sees in a viewer is what the network gets.
Transparent pixels are composited over white.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from ..errors import DynamicNetError, one_line, printable
from ..io.atomic import atomic_write
from ..io.paths import regular_file

# open_image checks its own, stated budget before decoding; this is Pillow's last guard
Image.MAX_IMAGE_PIXELS = 40_000 * 40_000
FORMATS_READ = "JPEG, PNG, WebP, TIFF, BMP, GIF and more"
DEFAULT_MAX_PIXELS = 100_000_000
"""The largest image read by default (100 megapixels: 1.2 GB as floats); callers may raise it."""


class ImageReadError(DynamicNetError, ValueError):
    """A file that is missing, not an image, or damaged."""


class ImageTooLargeError(ImageReadError):
    """An image with more pixels than the reader was allowed to decode."""


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


def open_image(
    source: str | Path | bytes,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    draft: int | None = None,
    name: str = "image",
) -> Image.Image:
    """Open, fully decode and orient an image file or the bytes of one; raise
    :class:`ImageReadError` with the reason.

    ``max_pixels`` is checked from the header, before anything is decoded: a small file can
    claim a huge image (a decompression bomb). Any failure of a decoder on untrusted data
    is bad input, whatever exception the decoder raises. ``draft`` lets a JPEG decoder skip
    detail beyond about that many pixels a side (much faster for large photos). ``name``
    starts the messages about bytes (a file's messages start with its path).
    """
    if isinstance(source, bytes):
        stream = io.BytesIO(source)
        if not source:
            raise ImageReadError(f"{name}: empty, not an image")
    else:
        stream = regular_file(source, "an image", ImageReadError)
        name = printable(stream)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(stream) as img:
                if max_pixels is not None and img.width * img.height > max_pixels:
                    raise ImageTooLargeError(
                        f"{name}: image too large ({img.width}x{img.height} pixels; the limit is "
                        f"{max_pixels / 1e6:g} megapixels)"
                    )
                if draft:
                    img.draft("RGB", (draft, draft))
                img.load()
                return ImageOps.exif_transpose(img)
    except ImageReadError:
        raise
    except Image.DecompressionBombError as err:
        raise ImageTooLargeError(f"{name}: image too large ({err})") from err
    except UnidentifiedImageError:
        raise ImageReadError(f"{name}: not an image (or in a format not read here: {FORMATS_READ})") from None
    except MemoryError:
        raise ImageReadError(f"{name}: not enough memory to decode it") from None
    except Exception as err:  # noqa: BLE001 - decoders raise many types on damaged data
        raise ImageReadError(f"{name}: damaged image ({one_line(str(err)) or type(err).__name__})") from err


def open_rgb8(
    source: str | Path | bytes,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    draft: int | None = None,
    name: str = "image",
) -> Image.Image:
    """:func:`open_image` then :func:`to_rgb8`: the 8-bit RGB picture a viewer shows."""
    img = open_image(source, max_pixels, draft, name)
    with _converting(name if isinstance(source, bytes) else printable(source)):
        return to_rgb8(img)


@contextlib.contextmanager
def _converting(name: str):
    """A decoded image that cannot be converted (an odd mode, a damaged palette, too little
    memory) is bad input too."""
    try:
        yield
    except MemoryError:
        raise ImageReadError(f"{name}: not enough memory to convert it") from None
    except Exception as err:  # noqa: BLE001 - whatever the conversion raises
        reason = one_line(str(err)) or type(err).__name__
        raise ImageReadError(f"{name}: unreadable image ({reason})") from None


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


def read_image(
    path: str | Path, max_side: int | None = None, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> Tensor:
    """Read any image file as a (3, H, W) float tensor, optionally shrunk so its longer side <= max_side."""
    img = open_image(path, max_pixels)
    with _converting(printable(path)):
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


def check_rgb_batch(x: Tensor, shapes: str = "(N, 3, H, W)") -> None:
    """Models take (N, 3, H, W) floating-point RGB in [0, 1]: a clear error otherwise, not
    a shape mismatch deep inside the network."""
    if not isinstance(x, Tensor):
        raise ValueError(f"expected a torch.Tensor image, got {type(x).__name__}")
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected RGB images of shape {shapes}, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"expected floating-point RGB in [0, 1], got {x.dtype} (divide uint8 images by 255)")
