"""The browser demo: one page, a few JSON/PNG endpoints, rendering through the Renderer.

Uploads are bounded in bytes and pixels, kept in a small in-memory store (oldest
dropped first), and rendering runs at most ``max_concurrent`` at a time, so memory stays
bounded however many requests arrive. Bad input gets a 4xx with a one-line message.
"""

from __future__ import annotations

import base64
import io
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import torch
import torch.nn.functional as F
from fastapi import FastAPI, File, HTTPException, UploadFile
from fastapi.responses import HTMLResponse, Response
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, Field

from ..apps.completion import at_working_scale, complete, training_side
from ..core import AlphaError
from ..data.images import ImageReadError, tensor_to_pil, to_rgb8
from ..data.masks import MaskError, check_mask, mask_values
from ..data.sheet import tile
from ..errors import DynamicNetError, one_line
from ..inference import Renderer
from ..inference.color import preserve_color
from ..inference.working_point import choose_alpha
from ..io.model_file import load_model, read_metadata

MAX_UPLOAD_BYTES = 25 * 2**20
MAX_PIXELS = 24_000_000
PREVIEW_SIDE = 384


@dataclass
class _Photo:
    name: str
    pixels: torch.Tensor  # (3, H, W) uint8: a quarter of the memory of floats

    @property
    def image(self) -> torch.Tensor:
        return self.pixels.float() / 255

    @property
    def nbytes(self) -> int:
        return self.pixels.numel()


class FacesRequest(BaseModel):
    model: str
    seed: int = Field(0, ge=0, le=2**31 - 1)
    n: int = Field(16, ge=1, le=64)
    alpha: float | list[float] | dict[str, float] = 0.0


class RenderRequest(BaseModel):
    image: str = Field(description="id from /api/images or /api/samples")
    model: str
    alpha: float | list[float] | dict[str, float] = 0.0
    max_side: int | None = Field(None, ge=8, le=8192, description="shrink for previews")
    alpha_map: str | None = Field(None, description="PNG data URL; grey level = strength where painted")
    preserve_color: Literal["luminance", "histogram"] | None = Field(
        None, description="keep the photo's colours"
    )


def explain(meta: dict) -> str:
    """One sentence on what alpha means for this model, from its recipe's objective names."""
    recipe = meta.get("recipe") or {}
    if meta.get("task") == "gan":
        main = (recipe.get("main") or {}).get("subset", "the main subset")
        tuned = next((t.get("subset") for t in recipe.get("tune") or []), "the other subset")
        return (
            f"alpha 0 draws faces like the main set ('{main}'), alpha 1 like '{tuned}'; the same faces morph."
        )
    main = (recipe.get("main") or {}).get("objective", "the main objective")
    tuned = {t.get("set"): t.get("objective") for t in recipe.get("tune") or []}
    if meta.get("task") == "completion":
        target = next(iter(tuned.values()), "the tuned objective")
        return (
            f"Paint a hole with the brush: alpha 0 fills it as trained for '{main}', alpha 1 for "
            f"'{target}'; 'auto' picks the alpha whose fill continues the photo most smoothly "
            "across the hole's edge."
        )
    if meta.get("variant") == "dual":
        return (
            f"alpha 0 is the main network ('{main}'); +1 is tuned for '{tuned.get('high', 'high')}' and "
            f"-1 for '{tuned.get('low', 'low')}'; values in between move smoothly."
        )
    if meta.get("variant") == "multi":
        return f"alpha 0 everywhere is the main network ('{main}'); each set's slider adds its own objective."
    target = next(iter(tuned.values()), "the tuned objective")
    return f"alpha 0 is the main network ('{main}'), alpha 1 is tuned for '{target}'; values between blend."


class _Store:
    """Photos by id, at most ``limit`` bytes of uploads (the oldest go first; samples stay)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: OrderedDict[str, _Photo] = OrderedDict()
        self.pinned: dict[str, _Photo] = {}
        self.lock = threading.Lock()

    def add(self, photo: _Photo, pinned: bool = False) -> str:
        key = secrets.token_urlsafe(9)
        with self.lock:
            if pinned:
                self.pinned[key] = photo
            else:
                self.items[key] = photo
                while len(self.items) > 1 and sum(p.nbytes for p in self.items.values()) > self.limit:
                    self.items.popitem(last=False)
        return key

    def get(self, key: str) -> _Photo:
        with self.lock:
            photo = self.pinned.get(key) or self.items.get(key)
        if photo is None:
            raise HTTPException(
                404, f"no image {key!r} (uploads are kept for a limited time; upload it again)"
            )
        return photo


class CompleteRequest(BaseModel):
    image: str = Field(description="id from /api/images or /api/samples")
    model: str
    mask: str = Field(description="PNG data URL of the hole: white or opaque = missing")
    alpha: float = 0.0
    auto: bool = Field(False, description="choose alpha for this image (smallest seam); ignores alpha")
    max_side: int | None = Field(
        None, ge=8, le=8192, description="shrink first (completion works best small)"
    )


def _pixels(im: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1)


def _png(image: torch.Tensor) -> Response:
    buffer = io.BytesIO()
    tensor_to_pil(image).save(buffer, format="PNG", compress_level=1)
    return Response(buffer.getvalue(), media_type="image/png")


def _decode_image(data: bytes, max_pixels: int) -> torch.Tensor:
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > max_pixels:
                raise HTTPException(
                    413, f"image has {im.width}x{im.height} pixels; the limit is {max_pixels}"
                )
            return _pixels(to_rgb8(im))
    except HTTPException:
        raise
    except UnidentifiedImageError as err:
        raise HTTPException(422, "not an image in a format Pillow reads") from err
    except (OSError, ValueError, Image.DecompressionBombError, ImageReadError) as err:
        raise HTTPException(
            422, f"not a readable image ({one_line(str(err)) or type(err).__name__})"
        ) from err


def _shrink(image: torch.Tensor, max_side: int | None) -> torch.Tensor:
    h, w = image.shape[-2:]
    if max_side is None or max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    return F.interpolate(image[None], size=size, mode="bilinear", antialias=True, align_corners=False)[
        0
    ].clamp(0, 1)


def _alpha_map(data_url: str, size: tuple[int, int], what: str = "alpha_map") -> torch.Tensor:
    """A (1, 1, H, W) strength map in [0, 1] from a PNG data URL (grey level or alpha channel)."""
    head, _, payload = data_url.partition(",")
    if not head.startswith("data:image/") or ";base64" not in head:
        raise HTTPException(422, f"{what} must be a data: URL of an image")
    try:
        raw = base64.b64decode(payload, validate=True)
    except ValueError:
        raise HTTPException(422, f"{what}: the data URL does not hold base64 data") from None
    try:
        with Image.open(io.BytesIO(raw)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise HTTPException(413, f"{what} has too many pixels")
            values = mask_values(im)  # the alpha channel where painted on a transparent layer
    except UnidentifiedImageError:
        raise HTTPException(422, f"{what} is not an image (send a PNG data URL)") from None
    except Image.DecompressionBombError:
        raise HTTPException(413, f"{what} claims too many pixels") from None
    except (OSError, ValueError) as err:
        raise HTTPException(422, f"{what} is not a readable image ({type(err).__name__})") from None
    strength = torch.from_numpy(values / 255.0).float()[None]
    return F.interpolate(strength[None], size=size, mode="bilinear", align_corners=False)


def create_app(
    models: dict[str, Path] | None = None,
    *,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_image_bytes: int = 512 * 2**20,
    max_concurrent: int = 2,
    precision: str = "auto",
) -> FastAPI:
    """The demo app. ``models`` maps names to model files (default: the shipped models)."""
    if models is None:
        from ..models import shipped_models

        models = {m.name: m.path for m in shipped_models()}
    if not models:
        raise DynamicNetError("no models to serve: train one or pass model files")
    metadata = {name: read_metadata(path) for name, path in models.items()}
    renderers: dict[str, Renderer] = {}
    renderers_lock = threading.Lock()
    busy = threading.BoundedSemaphore(max_concurrent)
    store = _Store(max_image_bytes)
    samples: list[dict] = []
    folder = Path(str(resources.files(__package__))) / "samples"
    for path in sorted(folder.glob("*.jpg")):
        with Image.open(path) as im:
            photo = _Photo(path.stem, _pixels(to_rgb8(im)))
        samples.append({"id": store.add(photo, pinned=True), "name": path.stem})

    def loaded(name: str, task: str):
        """The model's Renderer (style) or the model itself (GAN, completion), loaded once."""
        if name not in models:
            raise HTTPException(404, f"no model {name!r}; models: {', '.join(models)}")
        if metadata[name].get("task") != task:
            their = metadata[name].get("task")
            use = {"gan": "/api/faces", "completion": "/api/complete"}.get(their, "/api/render")
            raise HTTPException(422, f"{name} is a {their} model: use {use}")
        with renderers_lock:
            if name not in renderers:
                model = load_model(models[name])
                renderers[name] = Renderer(model, precision=precision) if task == "style" else model
            return renderers[name]

    def renderer(name: str) -> Renderer:
        return loaded(name, "style")

    app = FastAPI(title="dynamicnet demo", docs_url=None, redoc_url=None)
    page = (Path(str(resources.files(__package__))) / "static" / "index.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page

    @app.get("/api/models")
    def list_models() -> list[dict]:
        out = []
        for name, meta in metadata.items():
            low, high = meta.get("alpha_range", [0.0, 1.0])
            out.append({
                "name": name, "task": meta.get("task", "style"), "description": meta.get("description", ""),
                "variant": meta["variant"],
                "sets": meta["sets"], "blocks": list(meta["blocks"]), "alpha_range": [low, high],
                "explanation": explain(meta),
            })  # fmt: skip
        return out

    @app.get("/api/samples")
    def list_samples() -> list[dict]:
        return samples

    @app.post("/api/images")
    async def upload(file: Annotated[UploadFile, File()]) -> dict:
        data = await file.read(max_upload_bytes + 1)
        if len(data) > max_upload_bytes:
            raise HTTPException(413, f"upload is over {max_upload_bytes // 2**20} MB")
        if not data:
            raise HTTPException(422, "empty upload")
        pixels = _decode_image(data, max_pixels)
        key = store.add(_Photo(Path(file.filename or "upload").stem, pixels))
        return {"id": key, "width": pixels.shape[-1], "height": pixels.shape[-2]}

    @app.get("/api/images/{key}")
    def original(key: str, max_side: int | None = None) -> Response:
        if max_side is not None and not 8 <= max_side <= 8192:
            raise HTTPException(422, "max_side must be between 8 and 8192")
        return _png(_shrink(store.get(key).image, max_side))

    @app.post("/api/render")
    def render(request: RenderRequest) -> Response:
        fast = renderer(request.model)
        photo = store.get(request.image)
        alpha = request.alpha
        try:
            fast.net.coefficients(alpha)  # a bad alpha is the caller's error: 422, before any work
        except (AlphaError, ValueError) as err:
            raise HTTPException(422, str(err)) from err
        if request.alpha_map is not None and not (
            isinstance(alpha, (int, float)) or (isinstance(alpha, dict) and fast.net.variant == "multi")
        ):
            raise HTTPException(
                422, "alpha_map combines with one alpha (or one per set), not per-block values"
            )
        with busy:  # every large buffer of a request lives inside: memory stays bounded
            image = _shrink(photo.image, request.max_side)
            if request.alpha_map is not None:
                strength = _alpha_map(request.alpha_map, tuple(image.shape[-2:]))
                if isinstance(alpha, dict):
                    alpha = {k: strength * v for k, v in alpha.items()}
                else:
                    alpha = strength * float(alpha)
            out = fast(image, alpha=alpha).clamp(0, 1)
            if request.preserve_color:
                out = preserve_color(out, image, request.preserve_color)
            return _png(out)

    @app.post("/api/faces")
    def faces(request: FacesRequest) -> Response:
        """A grid of ``n`` generated faces (64 px each) for one seed and alpha."""
        model = loaded(request.model, "gan")
        try:
            model.net.coefficients(request.alpha)
        except (AlphaError, ValueError) as err:
            raise HTTPException(422, str(err)) from err
        with busy, torch.no_grad():
            images = model(model.latents(request.n, request.seed), alpha=request.alpha).clamp(0, 1)
        return _png(tile(images))

    @app.post("/api/complete")
    def fill_hole(request: CompleteRequest) -> Response:
        """The photo with the painted hole filled at ``alpha`` (or the auto alpha, sent back in
        the ``X-Alpha`` header)."""
        model = loaded(request.model, "completion")
        photo = store.get(request.image)
        if not request.auto:
            try:
                model.net.coefficients(request.alpha)
            except (AlphaError, ValueError) as err:
                raise HTTPException(422, str(err)) from err
        with busy, torch.no_grad():
            image = _shrink(photo.image, request.max_side)[None]
            painted = _alpha_map(request.mask, tuple(image.shape[-2:]), "mask")[0]
            try:
                hole = check_mask(painted, *image.shape[-2:])
            except MaskError as err:
                raise HTTPException(422, str(err)) from err
            side = training_side(model.config)  # fill at the training scale, paste into this size
            if request.auto:
                alpha = float(choose_alpha(model, *at_working_scale(image, hole[None], side))[0][0])
            else:
                alpha = request.alpha
            response = _png(complete(model, image, hole, alpha, side)[0])
        response.headers["X-Alpha"] = f"{alpha:g}"
        return response

    return app


def serve(host: str = "127.0.0.1", port: int = 7860, models: dict[str, Path] | None = None) -> None:
    """Run the demo with uvicorn until interrupted."""
    import uvicorn

    app = create_app(models)
    print(f"dynamicnet demo on http://{host}:{port}  (Ctrl+C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
