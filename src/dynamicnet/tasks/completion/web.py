"""The fill view of the demo: paint a hole (or drag a rectangle) and see it filled at any
alpha, or at the alpha this photo asks for."""

from __future__ import annotations

import torch
from fastapi import FastAPI, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ...data.masks import MaskError, check_mask
from ...server.context import DataUrl, ImageId, ModelName, ServerContext, check_alpha, painted_map, png
from .model import TASK, auto_alpha, complete

ENDPOINT = "/api/complete"
VIEW = "fill"
FEATURES = ()


class CompleteRequest(BaseModel):
    image: ImageId
    model: ModelName
    mask: DataUrl = Field(description="PNG data URL of the hole: white or opaque = missing")
    alpha: float = 0.0
    auto: bool = Field(
        False,
        description="choose alpha for this image (the one that best restores known pixels hidden "
        "around the hole, among fills of a wide hole in texture with enough of the detail around it); "
        "ignores alpha",
    )
    max_side: int | None = Field(
        None, ge=8, le=8192, description="shrink first (completion works best small)"
    )


def explain(meta: dict) -> str:
    recipe = meta.get("recipe") or {}
    main = (recipe.get("main") or {}).get("objective", "the main objective")
    target = next((t.get("objective") for t in recipe.get("tune") or []), "the tuned objective")
    return (
        f"Paint a hole with the brush: alpha 0 fills it as trained for '{main}', alpha 1 for "
        f"'{target}'; 'auto' hides a ring of known pixels around the hole too and picks the alpha "
        "that restores them best, among fills of a wide hole in texture with enough of the detail "
        "around it not to show as a smooth patch."
    )


def prepare(model, precision: str):
    return model


def add_routes(app: FastAPI, server: ServerContext) -> None:
    @app.post(ENDPOINT)
    def fill_hole(request: CompleteRequest) -> Response:
        """The photo with the painted hole filled at ``alpha`` (or the auto alpha, sent back in
        the ``X-Alpha`` header)."""
        model = server.model(request.model, TASK)
        photo = server.store.get(request.image)
        if not request.auto:
            check_alpha(model, request.alpha)
        with server.busy, torch.no_grad():
            image = photo.image(request.max_side)[None]
            painted = painted_map(request.mask, tuple(image.shape[-2:]), "mask")[0]
            try:
                hole = check_mask(painted, *image.shape[-2:])
                alpha = float(auto_alpha(model, image, hole)[0][0]) if request.auto else request.alpha
            except MaskError as err:
                raise HTTPException(422, str(err)) from err
            response = png(complete(model, image, hole, alpha)[0])
        response.headers["X-Alpha"] = f"{alpha:g}"
        return response
