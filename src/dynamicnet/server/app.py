"""The browser demo: one page, a few JSON/PNG endpoints. This module serves what every
model shares (the page, the model list, photo uploads); each task's view (its ``web`` front
end) adds its own endpoints through a :class:`~dynamicnet.server.context.ServerContext`.

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

import contextlib
import errno
import io
import socket
from collections.abc import AsyncIterator, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import numpy as np
from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from PIL import Image
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..data.images import open_rgb8
from ..errors import DynamicNetError, one_line
from ..tasks import TASKS, check_model_file, front_end, load_model
from .context import (
    MAX_JSON_BYTES,
    MAX_PIXELS,
    MemoryBudget,
    Photo,
    PhotoStore,
    ServerContext,
    decode_image,
    png,
    short,
)

MAX_UPLOAD_BYTES = 25 * 2**20
MULTIPART_SLACK = 64 * 2**10  # the form's boundaries and headers around the file
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


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
    view_options: Mapping[str, Any] | None = None,
) -> FastAPI:
    """The demo app. ``models`` maps names to model files (default: the shipped models and
    the user's); ``allowed_hosts`` are the names in the Host header it answers (``"*"``: any);
    ``view_options`` are settings for a task's view, by task (the style view's: how it trains
    a user's painting, see :mod:`dynamicnet.tasks.style.web`)."""
    if models is None:
        from ..models import all_models

        models = {m.name: m.path for m in all_models()}
    if not models:
        raise DynamicNetError("no models to serve: train one or pass model files")
    metadata = {name: check_model_file(path) for name, path in models.items()}  # weights too: fail now
    views = {name: front_end(task, "web") for name, task in TASKS.items()}
    views = {name: view for name, view in views.items() if view is not None}
    unserved = sorted({meta["task"] for meta in metadata.values()} - set(views))
    if unserved:
        raise DynamicNetError(f"the demo has no view for {', '.join(unserved)} models")
    server = ServerContext(
        models=dict(models),  # a view may add models; the caller's dict is left as it was
        metadata=metadata,
        store=PhotoStore(max_image_bytes),
        busy=MemoryBudget(max_concurrent),  # see the module's text
        loaders={
            name: (lambda model, view=view: view.prepare(model, precision)) for name, view in views.items()
        },
        endpoints={name: view.ENDPOINT for name, view in views.items()},
        load=load_model,
        check=check_model_file,
        options=dict(view_options or {}),
    )
    samples: list[dict] = []
    folder = Path(str(resources.files(__package__))) / "samples"
    for path in sorted(folder.glob("*.jpg")):
        photo = Photo(path.stem, np.asarray(open_rgb8(path)))
        height, width = photo.pixels.shape[:2]
        key = server.store.add(photo, pinned=True)
        samples.append({"id": key, "name": path.stem, "width": width, "height": height})

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        for stop in server.on_shutdown:  # e.g. a training the style view started
            stop()

    app = FastAPI(title="dynamicnet demo", docs_url=None, redoc_url=None, lifespan=lifespan)
    uploads = (max_upload_bytes + MULTIPART_SLACK, f"upload over {max_upload_bytes / 2**20:g} MB")
    json_bodies = (max_json_bytes, f"request body over {max_json_bytes / 2**20:g} MB")
    limits = {"/api/images": uploads}
    for view in views.values():
        limits.update(getattr(view, "BODY_LIMITS", {}))
    app.add_middleware(_BodyLimit, limits=limits, default=json_bodies)
    app.add_middleware(_SameOrigin)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    page = (Path(str(resources.files(__package__))) / "static" / "index.html").read_text(encoding="utf-8")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """Which field and why, never the value sent (it may be huge, or NaN that JSON cannot carry)."""
        problems = []
        for error in exc.errors()[:3]:
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            problems.append(f"{short(where)}: {error.get('msg', 'invalid')}" if where else error.get("msg"))
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
        """Each model with what the page needs to show it: its view, the endpoint that renders
        it, the extras its view offers, and one sentence on what alpha does."""
        out = []
        for name, meta in list(server.metadata.items()):  # a view may add one meanwhile
            low, high = meta.get("alpha_range", [0.0, 1.0])
            view = views[meta["task"]]
            out.append({
                "name": name, "task": meta["task"], "description": meta.get("description", ""),
                "variant": meta["variant"],
                "sets": meta["sets"], "blocks": list(meta["blocks"]), "alpha_range": [low, high],
                "view": view.VIEW, "endpoint": view.ENDPOINT, "features": list(view.FEATURES),
                "frame_endpoint": getattr(view, "FRAME_ENDPOINT", None),
                "explanation": view.explain(meta),
            })  # fmt: skip
        return out

    @app.get("/api/samples")
    def list_samples() -> list[dict]:
        return samples

    @app.post("/api/images")
    def upload(file: Annotated[UploadFile, File()]) -> dict:
        """A worker thread reads and decodes the file, inside the memory budget."""
        with server.busy:
            data = file.file.read(max_upload_bytes + 1)
            if len(data) > max_upload_bytes:
                raise HTTPException(413, f"upload is over {max_upload_bytes / 2**20:g} MB")
            if not data:
                raise HTTPException(422, "empty upload")
            pixels = np.asarray(decode_image(data, max_pixels))
            del data
        key = server.store.add(Photo(short(Path(file.filename or "upload").stem, 100), pixels))
        return {"id": key, "width": pixels.shape[1], "height": pixels.shape[0]}

    @app.get("/api/images/{key}")
    def original(key: str, max_side: int | None = None) -> Response:
        if max_side is not None and not 8 <= max_side <= 8192:
            raise HTTPException(422, "max_side must be between 8 and 8192")
        photo = server.store.get(key)
        with server.busy:
            return png(photo.picture(max_side))

    for view in views.values():
        view.add_routes(app, server)

    return app


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    models: dict[str, Path] | None = None,
    allowed_hosts: Iterable[str] = (),
    open_browser: bool = False,
    view_options: Mapping[str, Any] | None = None,
) -> None:
    """Run the demo with uvicorn until interrupted; it answers the names of ``host`` (see
    :func:`host_names`) and ``allowed_hosts``; ``view_options`` as for :func:`create_app`.

    The socket is bound before anything is printed: a port in use is one clear error, and
    the address printed is one that already accepts connections.
    """
    import uvicorn

    app = create_app(models, allowed_hosts=[*host_names(host), *allowed_hosts], view_options=view_options)
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
