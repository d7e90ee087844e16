"""Perceptual style-transfer objectives: VGG16 content loss, Gram style loss, total variation,
colour fidelity.

An objective is data (:class:`StyleObjective`): which style images at which size, and
the weights of the terms. :class:`StyleLoss` binds one objective to a VGG network and
computes the style Grams once.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.images import open_image, pil_to_tensor, resize_shorter
from ..networks.vgg import ImageNetNorm, VGG16Features, gram
from ..training.recipe import RecipeError

CONTENT_LAYER = "relu2_2"
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
COLOR_POOL = 16  # colour fidelity compares 16x16-pixel averages: strokes are free, regional colours not
COLOR_UNIT = (10 / 255) ** 2  # a uniform cast of 10/255 over the whole image costs one unit
WEIGHTS = ("content_weight", "style_weight", "tv_weight", "color_weight")


@dataclass(frozen=True)
class StyleTarget:
    """One style image; ``size`` is its shorter side in pixels (None: as stored).

    The same image at two sizes gives fine vs coarse strokes (the "style scale" pair).
    """

    image: str
    size: int | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class StyleObjective:
    styles: tuple[StyleTarget, ...]
    content_weight: float = 1.0
    style_weight: float = 1.0
    tv_weight: float = 0.0
    color_weight: float = 0.0
    name: str = ""

    @classmethod
    def from_dict(cls, data: dict, base_dir: str | Path = ".", name: str = "") -> StyleObjective:
        """Build from a recipe table; image paths are relative to ``base_dir``.

        Either ``style = "img.jpg"`` with optional ``style_size``, or
        ``styles = [{image = "a.jpg", size = 256, weight = 0.5}, ...]`` to mix several.
        """
        where = f"objective {name!r}" if name else "objective"
        if not isinstance(data, dict):
            raise RecipeError(f"{where}: must be a table")
        known = {"style", "style_size", "styles", *WEIGHTS}
        unknown = set(data) - known
        if unknown:
            raise RecipeError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(known)})")
        if "styles" in data:
            raw = data["styles"]
            if not isinstance(raw, list) or not raw or not all(isinstance(e, dict) for e in raw):
                raise RecipeError(
                    f"{where}: 'styles' must be a non-empty list of {{image = ..., size = ...}}"
                )
        elif "style" in data:
            raw = [{"image": data["style"], "size": data.get("style_size")}]
        else:
            raise RecipeError(f"{where}: needs 'style' or 'styles'")
        targets = []
        for entry in raw:
            extra = set(entry) - {"image", "size", "weight"}
            if extra or not isinstance(entry.get("image"), str) or not entry["image"]:
                raise RecipeError(f'{where}: each style needs image = "file" (and optional size, weight)')
            size, weight = entry.get("size"), entry.get("weight", 1.0)
            whole = isinstance(size, int) and not isinstance(size, bool)
            if size is not None and not (whole and 16 <= size <= 4096):
                raise RecipeError(f"{where}: style size must be 16 to 4096 (pixels), got {size!r}")
            if not _is_number(weight) or weight < 0:
                raise RecipeError(f"{where}: style weight must be a finite number >= 0, got {weight!r}")
            image = Path(entry["image"]).expanduser()
            if not image.is_absolute():
                image = Path(base_dir) / image
            targets.append(StyleTarget(str(image), size, float(weight)))
        for key in WEIGHTS:
            if key in data and (not _is_number(data[key]) or data[key] < 0):
                raise RecipeError(f"{where}: {key} must be a finite number >= 0, got {data[key]!r}")
        return cls(
            styles=tuple(targets),
            content_weight=float(data.get("content_weight", 1.0)),
            style_weight=float(data.get("style_weight", 1.0)),
            tv_weight=float(data.get("tv_weight", 0.0)),
            color_weight=float(data.get("color_weight", 0.0)),
            name=name,
        )

    def to_dict(self) -> dict:
        """JSON-ready description for model metadata (image names, not machine paths)."""
        out = asdict(self)
        if not self.color_weight:
            del out["color_weight"]  # as objectives were recorded before the term existed
        out["styles"] = [
            {"image": Path(t.image).name, "size": t.size, "weight": t.weight} for t in self.styles
        ]
        return out


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def total_variation(x: Tensor) -> Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def color_shift(output: Tensor, content: Tensor) -> Tensor:
    """Mean squared difference of 16x16-pixel averages, in units of a 10/255 cast.

    The content loss (relu2_2) barely sees smooth colour changes in flat areas, so a light
    style weight alone lets a network paint colour blotches into skies and skin to match
    the deep Grams cheaply; this term prices them.
    """
    a = F.avg_pool2d(output.float(), COLOR_POOL, ceil_mode=True)
    b = F.avg_pool2d(content.float(), COLOR_POOL, ceil_mode=True)
    return F.mse_loss(a, b) / COLOR_UNIT


class StyleLoss(nn.Module):
    """The weighted sum content + style (+ TV) for one objective, on RGB [0, 1] images."""

    def __init__(self, vgg: VGG16Features, objective: StyleObjective) -> None:
        super().__init__()
        self.vgg = vgg
        self.objective = objective
        device = vgg.input_pad.device  # style targets are computed where the network lives
        self.norm = ImageNetNorm().to(device)
        with torch.no_grad():
            for i, target in enumerate(objective.styles):
                img = open_image(target.image)
                if target.size is not None:
                    img = resize_shorter(img, target.size)
                feats = self.features(pil_to_tensor(img).unsqueeze(0).to(device))
                for layer in STYLE_LAYERS:
                    self.register_buffer(f"gram{i}_{layer}", gram(feats[layer]), persistent=False)

    def style_grams(self, i: int) -> list[Tensor]:
        return [getattr(self, f"gram{i}_{layer}") for layer in STYLE_LAYERS]

    def features(self, rgb: Tensor) -> dict[str, Tensor]:
        return self.vgg(self.norm(rgb))

    def forward(self, output: Tensor, content: Tensor) -> dict[str, Tensor]:
        with torch.no_grad():
            target = self.features(content)[CONTENT_LAYER]
        return self.terms(output, self.features(output), target, content)

    def terms(
        self,
        output: Tensor,
        out_feats: dict[str, Tensor],
        content_target: Tensor,
        content: Tensor | None = None,
    ) -> dict:
        """The loss from features computed once, so one output can be scored by several objectives.

        ``content_target`` is the content image's :data:`CONTENT_LAYER` feature map;
        ``content`` the content image itself, needed when the objective weighs colour.
        """
        # both terms in units of the backbone's reference losses (see VGG16Features.calibrate)
        content_loss = F.mse_loss(out_feats[CONTENT_LAYER].float(), content_target.float())
        content_loss = content_loss / self.vgg.content_unit
        style_loss = output.new_zeros((), dtype=torch.float32)
        for i, target in enumerate(self.objective.styles):
            for layer, g_style in zip(STYLE_LAYERS, self.style_grams(i)):
                g_out = gram(out_feats[layer])
                style_loss = style_loss + target.weight * F.mse_loss(g_out, g_style.expand_as(g_out))
        style_loss = style_loss / self.vgg.style_unit
        obj = self.objective
        total = obj.content_weight * content_loss + obj.style_weight * style_loss
        terms = {"content": content_loss.detach(), "style": style_loss.detach()}
        if obj.tv_weight:
            tv = total_variation(output.float())
            total = total + obj.tv_weight * tv
            terms["tv"] = tv.detach()
        if obj.color_weight:
            if content is None:
                raise ValueError("this objective weighs colour fidelity: pass the content image")
            color = color_shift(output, content)
            total = total + obj.color_weight * color
            terms["color"] = color.detach()
        return {"loss": total, **terms}


__all__ = [
    "CONTENT_LAYER", "StyleLoss", "StyleObjective", "StyleTarget", "color_shift", "gram", "total_variation",
]  # fmt: skip
