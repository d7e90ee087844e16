"""Border figure and knob span: they see a painted frame and a knob that moves, and nothing else."""

from __future__ import annotations

import pytest
import torch

from dynamicnet.evaluation.visible import border_bands, border_figure, knob_span, level_distance


def photo(h: int = 80, w: int = 96) -> torch.Tensor:
    return torch.rand(3, h, w, generator=torch.Generator().manual_seed(0))


def test_a_render_without_a_frame_scores_zero():
    assert border_figure(lambda x, a: x * 0.5 + 0.1, photo(), 1.0) == pytest.approx(0.0, abs=1e-4)


def test_a_painted_frame_is_seen():
    def framed(x, alpha):
        y = x.clone()
        y[:, :2, :] = y[:, -2:, :] = alpha  # a 2 px band at the top and bottom of every render
        return y

    x = photo()
    figure = border_figure(framed, x, 1.0, band=4)
    # the 2 x 2 painted rows differ from the render with context by 1 - x; the rest of the
    # 4 px ring (1344 pixels of 80 x 96) does not
    expected = float((1 - x[:, :2]).sum() + (1 - x[:, -2:]).sum()) / (3 * 1344) * 255
    assert figure == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match="larger than the context"):
        border_figure(framed, photo(40, 40), 1.0)


def test_bands_tell_a_frame_from_strokes_that_shift_with_the_context():
    def framed(x, alpha):
        y = x.clone()
        y[:, :3], y[:, -3:], y[:, :, :3], y[:, :, -3:] = alpha, alpha, alpha, alpha
        return y

    def shifted(x, alpha):  # every pixel depends on the image's size, as strokes placed by
        return (x + 0.01 * x.shape[-1] * alpha) % 1  # normalisation statistics would

    x = photo(160, 192)
    edge, inside = border_bands(framed, x, 1.0)
    assert edge > 50 and inside == 0
    edge, inside = border_bands(shifted, x, 1.0)
    assert edge > 50 and inside == pytest.approx(edge, rel=0.2)
    with pytest.raises(ValueError, match="deepest band"):
        border_bands(framed, photo(100, 120), 1.0)


def test_knob_span_of_a_blend_towards_grey():
    x = photo()
    grey = torch.full_like(x, 0.5)
    knob = knob_span(lambda img, a: torch.lerp(img, grey, a), x, [1.0, 0.0, 0.5, 0.25, 0.75])
    assert knob.alphas == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert knob.from_photo[0] == pytest.approx(0.0, abs=1e-4)
    assert knob.span == pytest.approx(level_distance(x, grey), rel=1e-4)
    assert knob.monotone and knob.largest_step_share == pytest.approx(0.25, abs=1e-3)


def test_a_knob_that_turns_back_is_not_monotone():
    x = photo()
    grey = torch.full_like(x, 0.5)
    knob = knob_span(lambda img, a: torch.lerp(img, grey, min(a, 1.5 - a)), x, [0, 0.5, 0.75, 1.0])
    assert not knob.monotone
