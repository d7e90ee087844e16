"""Every shipped model moves its output steadily away from the main network as alpha grows."""

from __future__ import annotations

import pytest
import torch

import dynamicnet
from dynamicnet.evaluation.photos import astronaut, held_out_photo
from dynamicnet.models import shipped_models

SHIPPED = [m for m in shipped_models() if m.task == "style"]
FACES = [m for m in shipped_models() if m.task == "gan"]
FILLS = [m for m in shipped_models() if m.task == "completion"]
RESTORERS = [m for m in shipped_models() if m.task == "restore"]


def _photo() -> torch.Tensor:
    """A smooth photo-like test image with edges (no shared data needed)."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 96), torch.linspace(0, 1, 128), indexing="ij")
    img = torch.stack([0.5 + 0.4 * torch.sin(6 * xx), 0.3 + 0.5 * yy, 0.6 * (xx * yy > 0.2).float() + 0.2])
    return img.unsqueeze(0)


@pytest.mark.parametrize("model", SHIPPED, ids=[m.name for m in SHIPPED])
def test_output_moves_monotonically_and_smoothly_with_alpha(model):
    net = dynamicnet.load(model.name)
    renderer = dynamicnet.Renderer(net, precision="fp32")
    x = _photo()
    low, high = model.alpha_range
    for end in [e for e in (low, high) if e != 0]:
        alphas = [end * i / 8 for i in range(9)]
        _assert_steady(renderer.sweep(x, alphas), end)


@pytest.mark.parametrize("model", SHIPPED, ids=[m.name for m in SHIPPED])
def test_no_frame_at_the_borders(model):
    """The outer 4 px stay within 6/255 of a render with 64 px of mirrored context, at every alpha."""
    from dynamicnet.evaluation.visible import border_figure

    renderer = dynamicnet.Renderer(dynamicnet.load(model.name))
    x = held_out_photo()[0]
    low, high = model.alpha_range
    for alpha in [low + (high - low) * i / 4 for i in range(5)]:
        figure = border_figure(renderer, x, alpha)
        assert figure <= 6.0, f"{model.name} at alpha {alpha:g}: border figure {figure:.1f}/255"


@pytest.mark.parametrize("model", FACES, ids=[m.name for m in FACES])
def test_faces_move_steadily_with_alpha_and_ignore_their_batch(model):
    net = dynamicnet.load(model.name)
    z = net.latents(16, seed=0)
    with torch.no_grad():
        _assert_steady([net(z, alpha=i / 8) for i in range(9)], 1.0)
        assert torch.allclose(net(z[3:4], alpha=0.5), net(z, alpha=0.5)[3:4], atol=1e-5)


@pytest.mark.parametrize("model", FILLS, ids=[m.name for m in FILLS])
def test_fills_move_steadily_with_alpha_and_keep_the_known_pixels(model):
    """On a held-out photo with texture around the hole: the sharp end's objective asks for
    texture, which a smooth synthetic image has none of to continue."""
    from dynamicnet.data.masks import centre_square

    net = dynamicnet.load(model.name)
    x = torch.nn.functional.interpolate(astronaut(), size=(192, 192), mode="area")
    mask = centre_square(192, 192, 0.25)
    with torch.no_grad():
        outs = [net(x, alpha=i / 8, mask=mask) for i in range(9)]
    hole = mask.expand_as(x[0]) > 0.5
    for y in outs:
        assert torch.equal(y[0][~hole], x[0][~hole])
    # the fill continues the surroundings: nearer to the photo than to a flat grey hole
    assert (outs[0][0][hole] - x[0][hole]).abs().mean() < (0.5 - x[0][hole]).abs().mean()
    _assert_steady([y[0][hole] for y in outs], 1.0)


@pytest.mark.parametrize("model", RESTORERS, ids=[m.name for m in RESTORERS])
def test_restorers_beat_the_classical_answer_and_trade_fidelity_for_detail_along_alpha(model):
    """On a held-out photo degraded as the model was trained (the figures of any model
    file: experiments/restore_knob.py; their meaning: ``quality.KnobFigures``):

    - alpha 0 (trained for L1) is clearly nearer the clean photo than bicubic (or the noisy
      input) is;
    - along alpha the result moves steadily, and by at least half of alpha 0's own remaining
      error: the sharp end is another answer, not a rounding of the faithful one. (The style
      models' floor, 0.02 over the whole picture, does not fit a knob whose ends share every
      coarse feature: on this photo, an x4 sharp end drawing half again the clean photo's
      fine detail moved it by 0.0197);
    - alpha 1 gives up fidelity (PSNR) and its fine detail is nearer the clean photo's than
      alpha 0's is: it puts detail back rather than noise over it.
    """
    from dynamicnet.tasks.restore.quality import knob_figures

    knob = knob_figures(dynamicnet.load(model.name), held_out_photo())
    assert knob.faithful_psnr > knob.classical_psnr + 0.5, knob.summary()
    assert knob.monotone and knob.step_ratio < 3, knob.summary()
    assert knob.move > knob.floor, knob.summary()
    assert knob.sharp_psnr < knob.faithful_psnr - 0.3, knob.summary()
    assert knob.detail_restored, knob.summary()


def _assert_steady(outs: list[torch.Tensor], end: float, floor: float = 0.02) -> None:
    base = outs[0]
    distance = [float((y - base).abs().mean()) for y in outs]
    steps = [float((b - a).abs().mean()) for a, b in zip(outs, outs[1:])]
    assert all(d2 > d1 for d1, d2 in zip(distance, distance[1:])), (end, distance)
    assert distance[-1] > floor, ("alpha barely changes the output", distance[-1], floor)
    assert max(steps) < 3 * min(steps), ("uneven steps along alpha", end, steps)
