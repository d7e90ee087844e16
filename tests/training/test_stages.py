"""Block stages trained across the knob: the alphas drawn, the mixed objective, exact resume."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

import dynamicnet
from dynamicnet.losses.perceptual import StyleLoss
from dynamicnet.tasks import load_recipe
from dynamicnet.tasks.style.training import StyleTraining
from dynamicnet.training.recipe import RecipeError
from dynamicnet.training.stages import AlphaDraws
from dynamicnet.training.trainer import train


def test_draws_cover_the_knob_and_restart_where_they_stopped():
    draws = AlphaDraws(-1.0, seed=5)
    first = [draws.draw() for _ in range(200)]
    ts = [t for t, _ in first]
    assert all(0 < t <= 1 for t in ts) and min(ts) < 0.1 and max(ts) > 0.9
    assert all(alpha == -t for t, alpha in first)  # the low set of a dual model: negative alphas
    state = draws.state_dict()
    later = [draws.draw() for _ in range(5)]
    again = AlphaDraws(-1.0, seed=5)
    again.load_state_dict(state)
    assert [again.draw() for _ in range(5)] == later
    t, alpha = AlphaDraws({"wave": 1.0}, seed=0).draw()
    assert alpha == {"wave": t}


def test_the_loss_is_the_mix_of_both_ends_at_the_drawn_alpha(recipe_factory):
    path = recipe_factory(tune_extra='alpha = "across"\n')
    training = StyleTraining(load_recipe(path), torch.device("cpu"))
    stage = training.stages()[1]
    assert stage.objective["trained_across_alpha_from"] == "o0"
    model, batch = training.model.eval(), torch.rand(2, 3, 32, 32)
    twin = AlphaDraws(1.0, seed=0)
    twin.load_state_dict(stage.state.state_dict())
    t, _ = twin.draw()
    with torch.no_grad():
        terms = stage.loss(model, batch)
        out = model(batch, alpha=t)
        low, high = (
            StyleLoss(training.vgg, training.objectives[n])(out, batch)["loss"] for n in ("o0", "o1")
        )
    assert 0 < t < 1 and terms["alpha"].item() == t
    assert terms["loss"].item() == pytest.approx(((1 - t) * low + t * high).item(), rel=1e-5)


def test_training_across_alpha_resumes_exactly(recipe_factory, tmp_path):
    recipe = recipe_factory(variant="dual", steps=(1, 3), tune_extra='alpha = "across"\n')
    straight = train(recipe, tmp_path / "straight", progress=False)
    out = tmp_path / "interrupted"
    assert train(recipe, out, stop_after_steps=3, progress=False) is None  # two steps into "high"
    resumed = train(recipe, out, resume=True, progress=False)  # the rest of "high", then "low"
    a, b = load_file(str(straight)), load_file(str(resumed))
    for key in a:
        assert torch.equal(a[key], b[key]), key
    logged = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    alphas = [r["alpha"] for r in logged if r.get("stage", "").startswith("tune:")]
    assert len(alphas) == 6 and len(set(alphas)) == 6 and all(0 < a <= 1 for a in alphas)
    model = dynamicnet.load(resumed)
    with torch.no_grad():
        x = torch.rand(1, 3, 24, 24)
        assert not torch.allclose(model(x, alpha=-0.5), model(x, alpha=0.0))


def test_only_known_alpha_modes(recipe_factory):
    with pytest.raises(RecipeError, match="alpha"):
        load_recipe(recipe_factory(tune_extra='alpha = "middle"\n'))
