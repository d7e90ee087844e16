"""Rendering tests share small style models with non-trivial blocks and random images."""

from __future__ import annotations

import pytest
import torch

from dynamicnet.apps import style


def _make_model(variant: str = "single", sets=None, seed: int = 0):
    torch.manual_seed(seed)
    model = style.build(style.default_config(variant, sets))
    with torch.no_grad():  # fresh blocks may be near zero; make every block matter
        for p in model.net.block_parameters():
            p.normal_(0, 0.05)
    return model.eval()


def _image(n: int = 1, h: int = 37, w: int = 50, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(seed))


@pytest.fixture
def make_model():
    return _make_model


@pytest.fixture
def make_image():
    return _image
