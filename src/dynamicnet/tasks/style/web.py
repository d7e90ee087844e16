"""The style view of the demo: a photo rendered at any alpha (a painted strength map, the
photo's colours kept), and the live camera."""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ...data.images import pil_to_tensor, tensor_to_pil
from ...extras import MissingExtraError, require
from ...inference import Renderer
from ...inference.color import preserve_color
from ...server.context import (
    Alpha,
    DataUrl,
    ImageId,
    ModelName,
    ServerContext,
    check_alpha,
    decode_image,
    painted_map,
    png,
)
from .model import TASK

ENDPOINT = "/api/render"
VIEW = "render"  # the page's view: a photo rendered at any alpha, with a before/after divider
FEATURES = ("paint", "per-block", "keep-color", "camera")  # the photo view's extras it offers
FRAME_ENDPOINT = "/api/frame"  # the camera's: one JPEG frame in, one out
MAX_FRAME_SIDE = 640
MAX_FRAME_BYTES = 2 * 2**20
BODY_LIMITS = {FRAME_ENDPOINT: (MAX_FRAME_BYTES, f"frame over {MAX_FRAME_BYTES / 2**20:g} MB")}


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
    main = (recipe.get("main") or {}).get("objective", "the main objective")
    tuned = {t.get("set"): t.get("objective") for t in recipe.get("tune") or []}
    if meta.get("variant") == "dual":
        return (
            f"alpha 0 is the main network ('{main}'); +1 is tuned for '{tuned.get('high', 'high')}' and "
            f"-1 for '{tuned.get('low', 'low')}'; values in between move smoothly."
        )
    if meta.get("variant") == "multi":
        return f"alpha 0 everywhere is the main network ('{main}'); each set's slider adds its own objective."
    target = next(iter(tuned.values()), "the tuned objective")
    return f"alpha 0 is the main network ('{main}'), alpha 1 is tuned for '{target}'; values between blend."


def prepare(model, precision: str) -> Renderer:
    """The server keeps a Renderer: the main network's layers run once per photo and alpha."""
    return Renderer(model, precision=precision)


def add_routes(app: FastAPI, server: ServerContext) -> None:
    def renderer(name: str) -> Renderer:
        return server.model(name, TASK)

    @app.post(ENDPOINT)
    def render(request: RenderRequest) -> Response:
        fast = renderer(request.model)
        photo = server.store.get(request.image)
        alpha = request.alpha
        check_alpha(fast, alpha)
        if request.preserve_color == "histogram":
            try:
                require("skimage", "studies", "the histogram colour method")
            except MissingExtraError as err:
                raise HTTPException(422, str(err)) from err
        if request.alpha_map is not None and not (
            isinstance(alpha, (int, float)) or (isinstance(alpha, dict) and fast.net.variant == "multi")
        ):
            raise HTTPException(
                422, "alpha_map combines with one alpha (or one per set), not per-block values"
            )
        with server.busy:  # every large buffer of a request lives inside: memory stays bounded
            image = photo.image(request.max_side)
            if request.alpha_map is not None:
                strength = painted_map(request.alpha_map, tuple(image.shape[-2:]), "alpha_map")
                if isinstance(alpha, dict):
                    alpha = {k: strength * v for k, v in alpha.items()}
                else:
                    alpha = strength * float(alpha)
            out = fast(image, alpha=alpha).clamp(0, 1)
            if request.preserve_color:
                out = preserve_color(out, image, request.preserve_color)
            return png(out)

    @app.post(FRAME_ENDPOINT)
    async def frame(
        request: Request, model: ModelName, alpha: Annotated[float, Field(ge=-1000, le=1000)] = 1.0
    ) -> Response:
        """One camera frame (a JPEG body of at most 640 x 640 pixels) stylized, as a JPEG:
        the live camera view sends frames one after the other."""
        fast = renderer(model)
        check_alpha(fast, alpha)
        data = await request.body()  # at most MAX_FRAME_BYTES: see the body limits
        if not data:
            raise HTTPException(422, "send the frame (a JPEG) as the request body")

        def stylize() -> bytes:
            with server.busy:
                picture = decode_image(data, MAX_FRAME_SIDE**2, "frame")
                if max(picture.size) > MAX_FRAME_SIDE:
                    raise HTTPException(413, f"frames are at most {MAX_FRAME_SIDE} pixels a side")
                out = fast(pil_to_tensor(picture), alpha=alpha)
                buffer = io.BytesIO()
                tensor_to_pil(out).save(buffer, format="JPEG", quality=85)
                return buffer.getvalue()

        return Response(await run_in_threadpool(stylize), media_type="image/jpeg")
