"""The restore view of the demo: the page's render view, through this task's endpoint.

The demo's sample photos are clean, so by default the endpoint first degrades the photo as
the model was trained (smaller, noisier); a user's own small or noisy photo is restored as
it is (``as_is``). It restores at the asked alpha and sends back the centre of the picture
zoomed 2x: the input (each of its pixels enlarged) on the left, the restoration beside it.
The alpha slider then moves the right half between the faithful and the sharp result.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from fastapi import FastAPI
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ...server.context import ImageId, ModelName, ServerContext, check_alpha, png
from .model import TASK

ENDPOINT = "/api/restore"
VIEW = "render"
FEATURES = ("as-is",)  # the photo view's extras it offers
ZOOM = 2


class RestoreRequest(BaseModel):
    image: ImageId
    model: ModelName
    alpha: float = 0.0
    max_side: int | None = Field(None, ge=8, le=8192, description="the side of the picture sent back")
    as_is: bool = Field(False, description="restore the photo as it is instead of degrading it first")


def explain(meta: dict) -> str:
    words = "enlarges" if (meta.get("degradation") or {}).get("scale", 1) > 1 else "cleans"
    return (
        f"The photo is degraded as the model was trained (unless it is restored as it is), then the "
        f"model {words} it: the input on the left, the result beside it (the centre, zoomed 2x). "
        "Alpha 0 is faithful (best PSNR), alpha 1 sharper, with invented detail."
    )


def prepare(model, precision: str):
    return model


def side_by_side(model, photo: torch.Tensor, alpha: float, side: int, as_is: bool = False) -> torch.Tensor:
    """(3, side, 2 * side): the centre of ``photo``, degraded unless ``as_is`` (left), and
    restored (right), zoomed."""
    scale = model.scale
    # as it is, the photo is the model's input: its crop is a scale-th of the picture's half
    crop = max(scale * 8, side // ZOOM // scale * scale) // (scale if as_is else 1)
    h, w = photo.shape[-2:]
    if min(h, w) < crop:  # a small photo: enlarge it so the crop fits
        photo = F.interpolate(photo[None], scale_factor=crop / min(h, w) + 1e-6, mode="bicubic")[0].clamp(
            0, 1
        )
        h, w = photo.shape[-2:]
    top, left = (h - crop) // 2, (w - crop) // 2
    given = photo[None, :, top : top + crop, left : left + crop]
    degraded = given if as_is else model.degradation(given, np.random.default_rng(0))
    restored = model(degraded, alpha=alpha)
    shown = F.interpolate(degraded, scale_factor=scale, mode="nearest")
    pair = torch.cat([shown, restored], dim=-1)
    return F.interpolate(pair, scale_factor=ZOOM, mode="nearest")[0]


def add_routes(app: FastAPI, server: ServerContext) -> None:
    @app.post(ENDPOINT)
    def restore_photo(request: RestoreRequest) -> Response:
        """The photo's centre, degraded (unless ``as_is``) and restored at ``alpha``, side by side."""
        model = server.model(request.model, TASK)
        photo = server.store.get(request.image)
        check_alpha(model, request.alpha)
        with server.busy, torch.no_grad():
            image = photo.image(None)
            side = min(request.max_side or 512, 512)
            return png(side_by_side(model, image, request.alpha, side, request.as_is))
