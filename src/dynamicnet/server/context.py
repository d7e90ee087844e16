"""What every view of the demo shares: the photo store, the memory budget, the models
(each loaded once), and the helpers that turn untrusted bytes into pictures or 4xx errors.

A task's view (its ``web`` front end, see ``dynamicnet.tasks``) gets a :class:`ServerContext`
and adds its endpoints with it; nothing here knows a task.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import io
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
import torch.nn.functional as F
from fastapi import HTTPException
from fastapi.responses import Response
from PIL import Image
from pydantic import Field

from ..core import AlphaError
from ..data.images import (
    ImageReadError,
    ImageTooLargeError,
    open_image,
    open_rgb8,
    pil_to_tensor,
    resize_longer,
    tensor_to_pil,
)
from ..data.masks import mask_values
from ..errors import DynamicNetError, printable

MAX_JSON_BYTES = 16 * 2**20
MAX_PIXELS = 24_000_000
MAX_LIST = 64  # alpha lists and tables: one value per block or block set

Alpha = (
    float
    | Annotated[list[float], Field(max_length=MAX_LIST)]
    | Annotated[dict[Annotated[str, Field(max_length=100)], float], Field(max_length=MAX_LIST)]
)
ModelName = Annotated[str, Field(max_length=200)]
ImageId = Annotated[str, Field(max_length=64, description="id from /api/images or /api/samples")]
DataUrl = Annotated[str, Field(max_length=MAX_JSON_BYTES)]


def short(text: str, limit: int = 60) -> str:
    """Caller's text for a message: printable and bounded."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Photo:
    name: str
    pixels: np.ndarray  # (H, W, 3) uint8: a quarter of the memory of floats

    @property
    def nbytes(self) -> int:
        return self.pixels.nbytes

    def picture(self, max_side: int | None = None) -> Image.Image:
        """8-bit, shrunk first when asked: never a float copy of the whole upload."""
        im = Image.fromarray(self.pixels, "RGB")
        return resize_longer(im, max_side) if max_side and max(im.size) > max_side else im

    def image(self, max_side: int | None = None) -> torch.Tensor:
        """(3, H, W) floats in [0, 1], at most ``max_side`` pixels a side."""
        return pil_to_tensor(self.picture(max_side))


class PhotoStore:
    """Photos by id, at most ``limit`` bytes of uploads (the oldest go first; samples stay)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: OrderedDict[str, Photo] = OrderedDict()
        self.pinned: dict[str, Photo] = {}
        self.lock = threading.Lock()

    def add(self, photo: Photo, pinned: bool = False) -> str:
        key = secrets.token_urlsafe(9)
        with self.lock:
            if pinned:
                self.pinned[key] = photo
            else:
                self.items[key] = photo
                while len(self.items) > 1 and sum(p.nbytes for p in self.items.values()) > self.limit:
                    self.items.popitem(last=False)
        return key

    def get(self, key: str) -> Photo:
        with self.lock:
            photo = self.pinned.get(key) or self.items.get(key)
        if photo is None:
            raise HTTPException(
                404, f"no image {short(key)!r} (uploads are kept for a limited time; upload it again)"
            )
        return photo


class MemoryBudget:
    """At most ``slots`` requests hold image-sized buffers at once. Leaving a slot hands the
    freed memory back to the system (glibc keeps it otherwise, and resident memory would
    stay at its peak after a burst of large images)."""

    def __init__(self, slots: int) -> None:
        self.slots = threading.BoundedSemaphore(slots)
        self.trim = _malloc_trim()

    def __enter__(self) -> None:
        self.slots.acquire()

    def __exit__(self, *exc: object) -> None:
        self.slots.release()
        self.trim()


def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        return lambda: None
    return lambda: trim(0)


def png(image: torch.Tensor | Image.Image) -> Response:
    buffer = io.BytesIO()
    picture = image if isinstance(image, Image.Image) else tensor_to_pil(image)
    picture.save(buffer, format="PNG", compress_level=1)
    return Response(buffer.getvalue(), media_type="image/png")


def decode_image(data: bytes, max_pixels: int, what: str = "upload") -> Image.Image:
    """The untrusted bytes as an oriented 8-bit RGB picture, or a 413/422 saying why not."""
    try:
        return open_rgb8(data, max_pixels, name=what)
    except ImageTooLargeError as err:
        raise HTTPException(413, str(err)) from None
    except ImageReadError as err:
        raise HTTPException(422, str(err)) from None


def painted_map(data_url: str, size: tuple[int, int], what: str) -> torch.Tensor:
    """A (1, 1, H, W) map in [0, 1] from a PNG data URL (grey level, or the alpha channel
    where painted on a layer): a strength map, or a hole."""
    head, _, payload = data_url.partition(",")
    if not head.startswith("data:image/") or ";base64" not in head:
        raise HTTPException(422, f"{what} must be a data: URL of an image")
    try:
        raw = base64.b64decode(payload, validate=True)
    except ValueError:
        raise HTTPException(422, f"{what}: the data URL does not hold base64 data") from None
    try:
        values = mask_values(open_image(raw, MAX_PIXELS, name=what))
    except ImageTooLargeError:
        raise HTTPException(413, f"{what} has too many pixels") from None
    except ImageReadError as err:
        raise HTTPException(422, f"{err} (send a PNG data URL)") from None
    except Exception as err:  # noqa: BLE001 - a decoded but unconvertible map is bad input too
        raise HTTPException(422, f"{what} is not a readable image ({type(err).__name__})") from None
    strength = torch.from_numpy(values / 255.0).float()[None]
    return F.interpolate(strength[None], size=size, mode="bilinear", align_corners=False)


def check_alpha(model: Any, *alphas: Any) -> None:
    """A bad alpha is the caller's error: a 422 before any work."""
    try:
        model.net.check_alpha(*alphas)
    except (AlphaError, ValueError) as err:
        raise HTTPException(422, str(err)) from err


@dataclass
class ServerContext:
    """What a view's endpoints use. ``loaders`` maps each task to what the server keeps for
    one of its models (the model itself, or a Renderer around it); ``endpoints`` each task
    to the endpoint its models are used through, for the error that points there.

    A view may add a model while the server runs (one it trained, :meth:`add_model`), take
    settings the server was started with (``options``, by task) and leave work that must end
    with the server (``on_shutdown``)."""

    models: dict[str, Path]
    metadata: dict[str, dict]
    store: PhotoStore
    busy: MemoryBudget
    loaders: dict[str, Callable[[torch.nn.Module], Any]]
    endpoints: dict[str, str]
    load: Callable[[Path], torch.nn.Module]
    check: Callable[[Path], dict] | None = None  # a model file's metadata, its weights checked
    options: dict[str, Any] = field(default_factory=dict)
    on_shutdown: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    def model(self, name: str, task: str) -> Any:
        """The model called ``name``, as its task's view keeps it, loaded once; a 404 for an
        unknown name and a 422 naming the right endpoint for a model of another task."""
        if name not in self.models:
            raise HTTPException(404, f"no model {short(name)!r}; models: {', '.join(self.models)}")
        theirs = self.metadata[name].get("task")
        if theirs != task:
            raise HTTPException(
                422, f"{name} is a {theirs} model: use {self.endpoints.get(theirs, 'another endpoint')}"
            )
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = self.loaders[task](self.load(self.models[name]))
            return self._loaded[name]

    def add_model(self, name: str, path: Path) -> dict:
        """Serve the model file ``path`` as ``name`` from now on (listed by ``/api/models``);
        its metadata, or a DynamicNetError if the server cannot serve it."""
        meta = self.check(path) if self.check is not None else {"task": None}
        if meta.get("task") not in self.loaders:
            raise DynamicNetError(f"{short(name)}: the demo has no view for {meta.get('task')} models")
        with self._lock:
            self.models[name] = path
            self.metadata[name] = meta
            self._loaded.pop(name, None)
        return meta
