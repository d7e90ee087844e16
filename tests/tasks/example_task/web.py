"""The tint view in the demo: the page's render view, through this task's own endpoint."""

from __future__ import annotations

import torch
from fastapi import FastAPI
from fastapi.responses import Response
from pydantic import BaseModel, Field

from dynamicnet.server.context import ImageId, ModelName, ServerContext, check_alpha, png

ENDPOINT = "/api/tint"
VIEW = "render"
FEATURES = ()


class TintRequest(BaseModel):
    image: ImageId
    model: ModelName
    alpha: float = 0.0
    max_side: int | None = Field(None, ge=8, le=8192)


def explain(meta: dict) -> str:
    return "alpha 0 is the photo as it is, alpha 1 its warm tint."


def prepare(model, precision: str):
    return model


def add_routes(app: FastAPI, server: ServerContext) -> None:
    @app.post(ENDPOINT)
    def tint(request: TintRequest) -> Response:
        model = server.model(request.model, "tint")
        photo = server.store.get(request.image)
        check_alpha(model, request.alpha)
        with server.busy, torch.no_grad():
            return png(model(photo.image(request.max_side)[None], alpha=request.alpha)[0])
