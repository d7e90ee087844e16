"""The faces view of the demo: a grid of generated faces for a seed and alpha, and one face
across alpha."""

from __future__ import annotations

from typing import Annotated

import torch
from fastapi import FastAPI, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ...data.sheet import tile
from ...server.context import Alpha, ModelName, ServerContext, check_alpha, png
from .model import TASK

ENDPOINT = "/api/faces"
VIEW = "faces"
FEATURES = ()


class FacesRequest(BaseModel):
    model: ModelName
    seed: int = Field(0, ge=0, le=2**31 - 1)
    n: int = Field(16, ge=1, le=64)
    alpha: Alpha = 0.0
    face: int | None = Field(None, ge=0, le=63, description="only this face of the grid (with alphas)")
    alphas: Annotated[list[float], Field(min_length=1, max_length=16)] | None = Field(
        None, description="with face: that face at each of these alphas, in a row"
    )


def explain(meta: dict) -> str:
    recipe = meta.get("recipe") or {}
    main = (recipe.get("main") or {}).get("subset", "the main subset")
    tuned = next((t.get("subset") for t in recipe.get("tune") or []), "the other subset")
    return f"alpha 0 draws faces like the main set ('{main}'), alpha 1 like '{tuned}'; the same faces morph."


def prepare(model, precision: str):
    return model


def add_routes(app: FastAPI, server: ServerContext) -> None:
    @app.post(ENDPOINT)
    def faces(request: FacesRequest) -> Response:
        """A grid of ``n`` generated faces (64 px each) for one seed and alpha."""
        model = server.model(request.model, TASK)
        if (request.face is None) != (request.alphas is None):
            raise HTTPException(422, "face and alphas go together: one face across several alphas")
        if request.face is not None and request.face >= request.n:
            raise HTTPException(422, f"face must be below n ({request.n})")
        check_alpha(model, *(request.alphas or [request.alpha]))
        with server.busy, torch.no_grad():
            z = model.latents(request.n, request.seed)
            if request.face is None:
                return png(tile(model(z, alpha=request.alpha).clamp(0, 1)))
            one = z[request.face : request.face + 1]  # face i of a seed is the same face whatever n
            strip = torch.cat([model(one, alpha=a) for a in request.alphas]).clamp(0, 1)
            return png(tile(strip, columns=len(request.alphas)))
