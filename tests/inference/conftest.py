"""Rendering tests share random images (models: ``make_model`` in the top conftest)."""

from __future__ import annotations

import pytest
import torch


def _image(n: int = 1, h: int = 37, w: int = 50, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(seed))


@pytest.fixture
def make_image():
    return _image
