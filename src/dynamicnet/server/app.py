"""The browser demo: one page, a few JSON/PNG endpoints, rendering through the Renderer.

Memory stays bounded however many requests arrive:

- request bodies are refused while they stream in, past ``max_upload_bytes`` for uploads
  and ``max_json_bytes`` for JSON, and lists in JSON are short;
- uploads are bounded in pixels before decoding and kept as 8-bit pixels in a store of
  at most ``max_image_bytes`` (oldest dropped first);
- everything that decodes, resizes, renders or encodes an image runs inside one budget
  of ``max_concurrent`` slots, in worker threads (the event loop stays free).

So the peak is about the models, plus the store, plus ``max_concurrent`` times the
largest request (a full-resolution render of a ``max_pixels`` upload).

Only requests addressed to the hosts the server is bound to are served (a DNS-rebinding
page cannot drive it), and state-changing requests from another origin are refused.
Bad input gets a 4xx with a one-line message that never echoes unbounded input.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import ctypes.util
import errno
import io
import secrets
import socket
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import numpy as np
import torch
import torch.nn.functional as F
from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from PIL import Image
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
from ..data.masks import MaskError, check_mask, mask_values
from ..data.sheet import tile
from ..errors import DynamicNetError, one_line, printable
from ..extras import MissingExtraError, require
from ..inference import Renderer
from ..inference.color import preserve_color
from ..inference.working_point import choose_alpha
from ..tasks import check_model_file, load_model
from ..tasks.completion.model import at_working_scale, complete, training_side

MAX_UPLOAD_BYTES = 25 * 2**20
MAX_JSON_BYTES = 16 * 2**20
MAX_PIXELS = 24_000_000
MULTIPART_SLACK = 64 * 2**10  # the form's boundaries and headers around the file
MAX_FRAME_SIDE = 640
MAX_FRAME_BYTES = 2 * 2**20
MAX_LIST = 64  # alpha lists and tables: one value per block or block set
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass
class _Photo:
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


def _short(text: str, limit: int = 60) -> str:
    """Caller's text for a message: printable and bounded."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


Alpha = (
    float
    | Annotated[list[float], Field(max_length=MAX_LIST)]
    | Annotated[dict[Annotated[str, Field(max_length=100)], float], Field(max_length=MAX_LIST)]
)
ModelName = Annotated[str, Field(max_length=200)]
ImageId = Annotated[str, Field(max_length=64, description="id from /api/images or /api/samples")]
DataUrl = Annotated[str, Field(max_length=MAX_JSON_BYTES)]


class FacesRequest(BaseModel):
    model: ModelName
    seed: int = Field(0, ge=0, le=2**31 - 1)
    n: int = Field(16, ge=1, le=64)
    alpha: Alpha = 0.0
    face: int | None = Field(None, ge=0, le=63, description="only this face of the grid (with alphas)")
    alphas: Annotated[list[float], Field(min_length=1, max_length=16)] | None = Field(
        None, description="with face: that face at each of these alphas, in a row"
    )


class RenderRequest(BaseModel):
    image: ImageId
    model: ModelName
    alpha: Alpha = 0.0
    max_side: int | None = Field(None, ge=8, le=8192, description="shrink for previews")
    alpha_map: DataUrl | None = Field(None, description="PNG data URL; grey level = strength where painted")
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
                404, f"no image {_short(key)!r} (uploads are kept for a limited time; upload it again)"
            )
        return photo


class CompleteRequest(BaseModel):
    image: ImageId
    model: ModelName
    mask: DataUrl = Field(description="PNG data URL of the hole: white or opaque = missing")
    alpha: float = 0.0
    auto: bool = Field(False, description="choose alpha for this image (smallest seam); ignores alpha")
    max_side: int | None = Field(
        None, ge=8, le=8192, description="shrink first (completion works best small)"
    )


def _png(image: torch.Tensor | Image.Image) -> Response:
    buffer = io.BytesIO()
    picture = image if isinstance(image, Image.Image) else tensor_to_pil(image)
    picture.save(buffer, format="PNG", compress_level=1)
    return Response(buffer.getvalue(), media_type="image/png")


def _icon() -> bytes:
    """The tab icon: the knob, an orange dot on a dark square (drawn, no file to ship)."""
    from PIL import ImageDraw

    im = Image.new("RGBA", (32, 32), (32, 36, 42, 255))
    draw = ImageDraw.Draw(im)
    draw.rectangle((4, 14, 27, 17), fill=(170, 170, 187, 255))
    draw.ellipse((14, 9, 26, 21), fill=(224, 112, 32, 255))
    buffer = io.BytesIO()
    im.save(buffer, format="PNG")
    return buffer.getvalue()


def _decode_image(data: bytes, max_pixels: int, what: str = "upload") -> Image.Image:
    """The untrusted bytes as an oriented 8-bit RGB picture, or a 413/422 saying why not."""
    try:
        return open_rgb8(data, max_pixels, name=what)
    except ImageTooLargeError as err:
        raise HTTPException(413, str(err)) from None
    except ImageReadError as err:
        raise HTTPException(422, str(err)) from None


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
        values = mask_values(open_image(raw, MAX_PIXELS, name=what))  # alpha where painted on a layer
    except ImageTooLargeError:
        raise HTTPException(413, f"{what} has too many pixels") from None
    except ImageReadError as err:
        raise HTTPException(422, f"{err} (send a PNG data URL)") from None
    except Exception as err:  # noqa: BLE001 - a decoded but unconvertible map is bad input too
        raise HTTPException(422, f"{what} is not a readable image ({type(err).__name__})") from None
    strength = torch.from_numpy(values / 255.0).float()[None]
    return F.interpolate(strength[None], size=size, mode="bilinear", align_corners=False)


class _BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` as the body streams in; FastAPI lets HTTP errors through."""


class _BodyLimit:
    """Refuses a request body past its path's limit (413): at once from ``Content-Length``,
    else as soon as the running count passes it, before anything is spooled or parsed."""

    def __init__(self, app: ASGIApp, limits: dict[str, tuple[int, str]], default: tuple[int, str]) -> None:
        self.app, self.limits, self.default = app, limits, default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit, message = self.limits.get(scope["path"], self.default)
        refusal = _BodyTooLarge(413, message)
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > limit:
            response = JSONResponse({"detail": refusal.detail}, 413, headers={"connection": "close"})
            return await response(scope, receive, send)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise refusal
            return message

        await self.app(scope, counted, send)


class _MemoryBudget:
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


class _SameOrigin:
    """Refuses state-changing requests sent by a page of another origin (403): the browser
    names that page in ``Origin``, and only the demo's own page may post to it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(scope["headers"])
            origin = headers.get(b"origin", b"").decode("latin-1")
            host = headers.get(b"host", b"").decode("latin-1")
            if origin and urlsplit(origin).netloc != host:
                response = JSONResponse({"detail": "cross-origin requests are refused"}, 403)
                return await response(scope, receive, send)
        await self.app(scope, receive, send)


def host_names(bound: str) -> list[str]:
    """The names a browser may use for a server bound to ``bound``: loopback names, and for
    an address on every interface (0.0.0.0, ::) this machine's name and addresses."""
    names = [*LOOPBACK_HOSTS, bound]
    if bound in ("0.0.0.0", "::", ""):
        hostname = socket.gethostname()
        names.append(hostname)
        with contextlib.suppress(OSError):
            names += [info[4][0] for info in socket.getaddrinfo(hostname, None)]
    return list(dict.fromkeys(names))


def create_app(
    models: dict[str, Path] | None = None,
    *,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    max_json_bytes: int = MAX_JSON_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_image_bytes: int = 512 * 2**20,
    max_concurrent: int = 2,
    precision: str = "auto",
    allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
) -> FastAPI:
    """The demo app. ``models`` maps names to model files (default: the shipped models);
    ``allowed_hosts`` are the names in the Host header it answers (``"*"``: any)."""
    if models is None:
        from ..models import shipped_models

        models = {m.name: m.path for m in shipped_models()}
    if not models:
        raise DynamicNetError("no models to serve: train one or pass model files")
    metadata = {name: check_model_file(path) for name, path in models.items()}  # weights too: fail now
    renderers: dict[str, Renderer] = {}
    renderers_lock = threading.Lock()
    busy = _MemoryBudget(max_concurrent)  # see the module's text
    store = _Store(max_image_bytes)
    samples: list[dict] = []
    folder = Path(str(resources.files(__package__))) / "samples"
    for path in sorted(folder.glob("*.jpg")):
        photo = _Photo(path.stem, np.asarray(open_rgb8(path)))
        height, width = photo.pixels.shape[:2]
        key = store.add(photo, pinned=True)
        samples.append({"id": key, "name": path.stem, "width": width, "height": height})

    def loaded(name: str, task: str):
        """The model's Renderer (style) or the model itself (GAN, completion), loaded once."""
        if name not in models:
            raise HTTPException(404, f"no model {_short(name)!r}; models: {', '.join(models)}")
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
    uploads = (max_upload_bytes + MULTIPART_SLACK, f"upload over {max_upload_bytes / 2**20:g} MB")
    json_bodies = (max_json_bytes, f"request body over {max_json_bytes / 2**20:g} MB")
    frames = (MAX_FRAME_BYTES, f"frame over {MAX_FRAME_BYTES / 2**20:g} MB")
    app.add_middleware(_BodyLimit, limits={"/api/images": uploads, "/api/frame": frames}, default=json_bodies)
    app.add_middleware(_SameOrigin)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    page = (Path(str(resources.files(__package__))) / "static" / "index.html").read_text(encoding="utf-8")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """Which field and why, never the value sent (it may be huge, or NaN that JSON cannot carry)."""
        problems = []
        for error in exc.errors()[:3]:
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            problems.append(f"{_short(where)}: {error.get('msg', 'invalid')}" if where else error.get("msg"))
        return JSONResponse({"detail": one_line("; ".join(map(str, problems)) or "invalid request")}, 422)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page

    icon = _icon()

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(icon, media_type="image/png", headers={"cache-control": "max-age=86400"})

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
    def upload(file: Annotated[UploadFile, File()]) -> dict:
        """A worker thread reads and decodes the file, inside the memory budget."""
        with busy:
            data = file.file.read(max_upload_bytes + 1)
            if len(data) > max_upload_bytes:
                raise HTTPException(413, f"upload is over {max_upload_bytes / 2**20:g} MB")
            if not data:
                raise HTTPException(422, "empty upload")
            pixels = np.asarray(_decode_image(data, max_pixels))
            del data
        key = store.add(_Photo(_short(Path(file.filename or "upload").stem, 100), pixels))
        return {"id": key, "width": pixels.shape[1], "height": pixels.shape[0]}

    @app.get("/api/images/{key}")
    def original(key: str, max_side: int | None = None) -> Response:
        if max_side is not None and not 8 <= max_side <= 8192:
            raise HTTPException(422, "max_side must be between 8 and 8192")
        photo = store.get(key)
        with busy:
            return _png(photo.picture(max_side))

    @app.post("/api/render")
    def render(request: RenderRequest) -> Response:
        fast = renderer(request.model)
        photo = store.get(request.image)
        alpha = request.alpha
        try:
            fast.net.coefficients(alpha)  # a bad alpha is the caller's error: 422, before any work
            if request.preserve_color == "histogram":
                require("skimage", "studies", "the histogram colour method")
        except (AlphaError, ValueError, MissingExtraError) as err:
            raise HTTPException(422, str(err)) from err
        if request.alpha_map is not None and not (
            isinstance(alpha, (int, float)) or (isinstance(alpha, dict) and fast.net.variant == "multi")
        ):
            raise HTTPException(
                422, "alpha_map combines with one alpha (or one per set), not per-block values"
            )
        with busy:  # every large buffer of a request lives inside: memory stays bounded
            image = photo.image(request.max_side)
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

    @app.post("/api/frame")
    async def frame(
        request: Request, model: ModelName, alpha: Annotated[float, Field(ge=-1000, le=1000)] = 1.0
    ) -> Response:
        """One camera frame (a JPEG body of at most 640 x 640 pixels) stylized, as a JPEG:
        the live camera view sends frames one after the other."""
        fast = renderer(model)
        try:
            fast.net.coefficients(alpha)
        except (AlphaError, ValueError) as err:
            raise HTTPException(422, str(err)) from err
        data = await request.body()  # at most MAX_FRAME_BYTES: see the body limits
        if not data:
            raise HTTPException(422, "send the frame (a JPEG) as the request body")

        def stylize() -> bytes:
            with busy:
                picture = _decode_image(data, MAX_FRAME_SIDE**2, "frame")
                if max(picture.size) > MAX_FRAME_SIDE:
                    raise HTTPException(413, f"frames are at most {MAX_FRAME_SIDE} pixels a side")
                out = fast(pil_to_tensor(picture), alpha=alpha)
                buffer = io.BytesIO()
                tensor_to_pil(out).save(buffer, format="JPEG", quality=85)
                return buffer.getvalue()

        return Response(await run_in_threadpool(stylize), media_type="image/jpeg")

    @app.post("/api/faces")
    def faces(request: FacesRequest) -> Response:
        """A grid of ``n`` generated faces (64 px each) for one seed and alpha."""
        model = loaded(request.model, "gan")
        if (request.face is None) != (request.alphas is None):
            raise HTTPException(422, "face and alphas go together: one face across several alphas")
        if request.face is not None and request.face >= request.n:
            raise HTTPException(422, f"face must be below n ({request.n})")
        try:
            for alpha in request.alphas or [request.alpha]:
                model.net.coefficients(alpha)
        except (AlphaError, ValueError) as err:
            raise HTTPException(422, str(err)) from err
        with busy, torch.no_grad():
            z = model.latents(request.n, request.seed)
            if request.face is None:
                return _png(tile(model(z, alpha=request.alpha).clamp(0, 1)))
            one = z[request.face : request.face + 1]  # face i of a seed is the same face whatever n
            strip = torch.cat([model(one, alpha=a) for a in request.alphas]).clamp(0, 1)
            return _png(tile(strip, columns=len(request.alphas)))

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
            image = photo.image(request.max_side)[None]
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


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    models: dict[str, Path] | None = None,
    allowed_hosts: Iterable[str] = (),
    open_browser: bool = False,
) -> None:
    """Run the demo with uvicorn until interrupted; it answers the names of ``host`` (see
    :func:`host_names`) and ``allowed_hosts``.

    The socket is bound before anything is printed: a port in use is one clear error, and
    the address printed is one that already accepts connections.
    """
    import uvicorn

    app = create_app(models, allowed_hosts=[*host_names(host), *allowed_hosts])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as err:
        sock.close()
        in_use = err.errno == errno.EADDRINUSE
        reason = "the port is in use; choose another with --port" if in_use else err.strerror
        raise DynamicNetError(f"cannot listen on {host}:{port}: {reason}") from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else shown}:{port}"
    print(f"dynamicnet demo on {url}  (Ctrl+C stops it)", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[sock])
