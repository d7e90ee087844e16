"""Objective-space study: the metric, the baselines' knobs, and a --quick run end to end."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import torch

from dynamicnet.cli.main import main
from dynamicnet.evaluation.objectives import Scorer
from dynamicnet.losses.perceptual import StyleLoss, StyleObjective
from dynamicnet.perceptual import load_perceptual
from dynamicnet.tasks.style.knobs import KnobMethods
from dynamicnet.tasks.style.study import (
    EvaluationError,
    mix_objectives,
    objective_value,
    summarize,
)


def _objectives(style_image: Path) -> tuple[StyleObjective, StyleObjective]:
    first = StyleObjective.from_dict(
        {"style": str(style_image), "style_size": 24, "tv_weight": 0.5, "color_weight": 1.5}
    )
    second = StyleObjective.from_dict(
        {"style": str(style_image), "style_size": 40, "style_weight": 3.0, "content_weight": 2.0}
    )
    return first, second


@pytest.mark.parametrize("m", [0.0, 0.3, 1.0])
def test_mixed_objective_is_exactly_the_linear_mix(style_image, m):
    vgg, _ = load_perceptual("random")
    first, second = _objectives(style_image)
    x = torch.rand(1, 3, 32, 36, generator=torch.Generator().manual_seed(1))
    y = torch.rand(1, 3, 32, 36, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        mixed = float(StyleLoss(vgg, mix_objectives(first, second, m))(y, x)["loss"])
        ends = [float(StyleLoss(vgg, o)(y, x)["loss"]) for o in (first, second)]
    assert math.isclose(mixed, (1 - m) * ends[0] + m * ends[1], rel_tol=1e-5)
    if m == 0.0:  # an end of the mix is the objective itself, not one with a zero-weight style
        assert len(mix_objectives(first, second, m).styles) == len(first.styles)


def test_scorer_gives_each_objectives_loss_from_one_feature_pass(style_image):
    vgg, _ = load_perceptual("random")
    first, second = _objectives(style_image)
    criteria = {"a": StyleLoss(vgg, first), "b": StyleLoss(vgg, second)}
    x = torch.rand(1, 3, 28, 28, generator=torch.Generator().manual_seed(3))
    y = torch.rand(1, 3, 28, 28, generator=torch.Generator().manual_seed(4))
    scores = Scorer(criteria)(y, x)
    for name, criterion in criteria.items():
        with torch.no_grad():
            direct = criterion(y, x)
        for term, value in direct.items():
            assert math.isclose(scores[name][term], float(value), rel_tol=1e-6), (name, term)


def test_summarize_takes_each_methods_best_knob_per_objective():
    def point(knob, o0, o1):
        return {"knob": knob, "O_0": o0, "O_1": o1}

    scores = {
        "fixed": [point(0.0, 1.0, 10.0), point(0.5, 3.0, 5.0), point(1.0, 6.0, 2.0)],
        "dynamic-net": [point(0.0, 1.0, 10.0), point(0.5, 2.0, 6.0), point(1.0, 7.0, 2.5)],
        "pixel-blend": [point(0.0, 1.0, 10.0), point(1.0, 7.0, 2.5)],
        "dni": [point(0.0, 1.0, 10.0), point(1.0, 5.0, 3.0)],
    }
    table = summarize(scores, [0.0, 0.5, 1.0])
    mid = table[1]
    assert mid["m"] == 0.5 and mid["fixed"] == pytest.approx(4.0)
    assert mid["dynamic-net"] == {"best": pytest.approx(4.0), "ratio": pytest.approx(1.0), "knob": 0.5}
    assert mid["dni"]["knob"] == 1.0 and mid["dni"]["ratio"] == pytest.approx(1.0)
    assert mid["pixel-blend"]["ratio"] == pytest.approx(4.75 / 4.0)
    assert table[2]["dynamic-net"]["ratio"] == pytest.approx(2.5 / 2.0)
    assert objective_value(scores["fixed"][2], 0.25) == pytest.approx(0.75 * 6 + 0.25 * 2)
    with pytest.raises(EvaluationError, match="m=0.25"):
        summarize(scores, [0.0, 0.25])


# --- a --quick study end to end ---------------------------------------------------------------
@pytest.fixture(scope="module")
def study(tmp_path_factory, tiny_recipe_in):
    root = tmp_path_factory.mktemp("objective-space")
    recipe = tiny_recipe_in(root)
    held = root / "held"
    held.mkdir()
    for i, src in enumerate(sorted((root / "photos").glob("p[34].jpg"))):
        shutil.copy(src, held / f"h{i}.jpg")
    shutil.copy(root / "photos" / "p0.jpg", held / "in-training.jpg")
    (root / "photos" / "p3.jpg").unlink()  # p3 and p4 become held out: the recipe no longer sees them
    (root / "photos" / "p4.jpg").unlink()
    out = root / "out"
    args = ["evaluate", "objective-space", str(recipe), "--photos", str(held), "--out", str(out)]
    code = main([*args, "--quick", "--no-progress"])
    assert code == 0
    return root, recipe, held, out, args


def test_quick_study_writes_report_plot_grid_and_results(study, capsys):
    _, _, _, out, _ = study
    names = ("report.md", "objective-plane.png", "alpha-map.png", "grid.jpg", "results.json", "scores.json")
    for name in names:
        assert (out / name).stat().st_size > 0, name
    results = json.loads((out / "results.json").read_text())
    assert results["photos"] == ["h0.jpg", "h1.jpg"]  # the copy of a training photo was left out
    assert [row["m"] for row in results["table"]] == [0.0, 0.5, 1.0]
    assert "| 0.5 |" in (out / "report.md").read_text()


def test_every_knob_starts_at_the_main_network(study):
    """Knob 0 of each method is the main network, which is the fixed network for m = 0."""
    results = json.loads((study[3] / "results.json").read_text())
    points = results["points"]
    start = {m: next(p for p in points[m] if p["knob"] == 0.0) for m in ("dynamic-net", "pixel-blend", "dni")}
    fixed0 = next(p for p in points["fixed"] if p["knob"] == 0.0)
    for method, p in start.items():
        assert p["O_0"] == pytest.approx(fixed0["O_0"], rel=1e-5), method
    end = {m: next(p for p in points[m] if p["knob"] == 1.0) for m in ("dynamic-net", "pixel-blend")}
    assert end["pixel-blend"]["O_1"] == pytest.approx(end["dynamic-net"]["O_1"], rel=1e-5)
    assert results["table"][0]["dynamic-net"]["ratio"] <= 1.0 + 1e-6
    fixed1 = next(p for p in points["fixed"] if p["knob"] == 1.0)
    assert fixed1["O_1"] != pytest.approx(fixed0["O_1"], rel=1e-3)  # a different network was trained


def test_knob_methods_interpolate_between_their_ends(study):
    results = json.loads((study[3] / "results.json").read_text())
    nets = results["networks"]
    knobs = KnobMethods(nets["dynamic-net"], nets["dni"], "default")
    x = torch.rand(1, 3, 24, 28, generator=torch.Generator().manual_seed(0))
    y0, y1 = knobs.output("pixel-blend", 0.0, x), knobs.output("pixel-blend", 1.0, x)
    assert torch.allclose(knobs.output("pixel-blend", 0.25, x), 0.75 * y0 + 0.25 * y1, atol=1e-6)
    assert torch.equal(knobs.output("dni", 0.0, x), knobs.output("dynamic-net", 0.0, x))
    assert not torch.equal(knobs.output("dni", 1.0, x), y0)
    with pytest.raises(ValueError, match="unknown method"):
        knobs.output("nearest", 0.5, x)


def test_rerun_reuses_networks_and_scores(study, capsys):
    root, _, _, out, args = study
    before = json.loads((out / "results.json").read_text())
    capsys.readouterr()
    assert main([*args, "--quick", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "training" not in printed
    assert json.loads((out / "results.json").read_text())["points"] == before["points"]


def test_a_moved_study_folder_keeps_its_networks(study, tmp_path, capsys):
    import shutil

    _, _, _, out, args = study
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    args = [str(moved) if a == str(out) else a for a in args]
    capsys.readouterr()
    assert main([*args, "--quick", "--no-progress"]) == 0
    assert "training" not in capsys.readouterr().out  # DNI's key names its start by content, not path


def test_blocks_trained_across_alpha_share_the_fixed_networks_through_the_cache(study, tmp_path, capsys):
    _, recipe, held, out, _ = study
    across = tmp_path / "across.toml"
    across.write_text(recipe.read_text() + 'alpha = "across"\n')
    args = ["evaluate", "objective-space", str(across), "--photos", str(held), "--out", str(tmp_path / "o")]
    capsys.readouterr()
    assert main([*args, "--cache", str(out / "cache"), "--quick", "--no-progress"]) == 0
    trained = [line for line in capsys.readouterr().out.splitlines() if line.startswith("training")]
    assert [line.split()[1] for line in trained] == ["dynamic-net", "dni"]  # the fixed networks are reused
    mine = json.loads((tmp_path / "o" / "results.json").read_text())["networks"]
    theirs = json.loads((out / "results.json").read_text())["networks"]
    assert mine["dynamic-net"] != theirs["dynamic-net"]
    assert mine["fixed"]["0"] == mine["dynamic-net"]  # without --fixed-steps, m = 0 is the main network
    assert all(mine["fixed"][m] == theirs["fixed"][m] for m in ("0.5", "1"))


def test_fixed_networks_keep_the_architecture_and_the_main_networks_start(tmp_path, recipe_factory):
    from dynamicnet.tasks import load_recipe
    from dynamicnet.tasks.style.study import ObjectiveSpaceStudy

    recipe = recipe_factory(extra="")
    text = recipe.read_text().replace('variant = "single"', 'variant = "single"\narchitecture = "fast"')
    recipe.write_text(text.replace("[main]\n", '[main]\ninit = "starry-level"\n'))
    study = ObjectiveSpaceStudy(load_recipe(recipe), tmp_path, tmp_path / "o", quick=True)
    derived = study._derived("fixed", mix_objectives(study.first, study.second, 0.5), study.main_stage).data
    assert derived["model"]["architecture"] == "fast" and derived["main"]["init"] == "starry-level"
    recipe.write_text(text.replace('architecture = "fast"', 'architecture = "fast"\ninit = "starry-level"'))
    with pytest.raises(EvaluationError, match=r"use \[main\] init"):
        ObjectiveSpaceStudy(load_recipe(recipe), tmp_path, tmp_path / "o", quick=True)


def test_model_from_another_recipe_is_refused(study, capsys):
    _, _, _, _, args = study
    code = main([*args, "--quick", "--no-progress", "--model", "starry-level"])
    err = capsys.readouterr().err
    assert code == 2 and "not trained from" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--m", "0.5", "1"], "include 0 and 1"),
        (["--knob-points", "1"], "at least 2"),
        (["--set", "x"], "no tuned"),
    ],
)
def test_bad_settings_are_one_line_errors(study, capsys, extra, message):
    _, _, _, _, args = study
    assert main([*args, "--quick", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_gan_recipe_is_refused(tmp_path, capsys):
    recipe = tmp_path / "gan.toml"
    recipe.write_text(
        'task = "gan"\n[data]\nfaces = "f"\n[main]\nsubset = "Male"\n[[tune]]\nsubset = "~Male"\n'
    )
    code = main(
        ["evaluate", "objective-space", str(recipe), "--photos", str(tmp_path), "--out", str(tmp_path / "o")]
    )
    assert code == 2 and "measures style recipes" in capsys.readouterr().err


def test_no_held_out_photos_is_an_error(study, capsys, tmp_path):
    root, recipe, _, _, _ = study
    args = [
        "evaluate",
        "objective-space",
        str(recipe),
        "--photos",
        str(root / "photos"),
        "--out",
        str(tmp_path),
    ]
    assert main([*args, "--quick", "--no-progress"]) == 2
    assert "no held-out photos" in capsys.readouterr().err


def test_main_init_starts_from_another_models_weights(tmp_path, recipe_factory, tiny_model_file):
    import dynamicnet
    from dynamicnet.training.trainer import train

    recipe = recipe_factory(steps=(0, 0), extra="")
    text = recipe.read_text().replace("[main]\n", f'[main]\ninit = "{tiny_model_file}"\n')
    recipe.write_text(text)
    path = train(recipe, tmp_path / "run", progress=False)
    source, started = dynamicnet.load(tiny_model_file), dynamicnet.load(path)
    for (name, a), b in zip(source.net.base.state_dict().items(), started.net.base.state_dict().values()):
        assert torch.equal(a, b), name
