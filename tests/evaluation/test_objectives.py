"""Objective-space measurement: content and style losses per alpha."""

from __future__ import annotations

import math

import pytest
import torch

from dynamicnet.evaluation import measure_style_objectives
from dynamicnet.losses.perceptual import StyleLoss, StyleObjective
from dynamicnet.perceptual import load_perceptual


def test_losses_per_alpha_match_a_direct_computation(make_model, style_image):
    model = make_model()
    vgg, _ = load_perceptual("random")
    criteria = {
        "small": StyleLoss(vgg, StyleObjective.from_dict({"style": str(style_image), "style_size": 24})),
        "large": StyleLoss(vgg, StyleObjective.from_dict({"style": str(style_image), "style_size": 40})),
    }
    photos = [torch.rand(3, 32, 40, generator=torch.Generator().manual_seed(i)) for i in range(2)]
    points = measure_style_objectives(model, photos, [0.0, 1.0], criteria)
    assert [p.alpha for p in points] == [0.0, 1.0]
    with torch.no_grad():
        y = model(photos[1][None], alpha=1.0).clamp(0, 1)
        direct = float(criteria["large"](y, photos[1][None])["style"])
        y0 = model(photos[1][None], alpha=1.0).clamp(0, 1)
        direct0 = float(
            criteria["large"](model(photos[0][None], alpha=1.0).clamp(0, 1), photos[0][None])["style"]
        )
    assert torch.equal(y, y0)
    assert math.isclose(points[1].style["large"], (direct + direct0) / 2, rel_tol=1e-5)
    assert points[0].content != points[1].content
    with pytest.raises(ValueError, match="at least one"):
        measure_style_objectives(model, photos, [0.0], {})
