"""Recipes: typos and wrong types are errors with a message, never silent defaults."""

from __future__ import annotations

import pytest

from dynamicnet.tasks import load_recipe
from dynamicnet.training.recipe import RecipeError

GOOD = """
name = "ok"
[data]
photos = "photos"
crop = 32
[objectives.a]
style = "s.png"
[main]
objective = "a"
[[tune]]
objective = "a"
"""


def load(tmp_path, text):
    path = tmp_path / "r.toml"
    path.write_text(text)
    return load_recipe(path)


def test_defaults_are_filled_in(tmp_path):
    r = load(tmp_path, GOOD)
    assert r.data["main"]["steps"] == 1000 and r.data["tune"][0]["set"] == "default"
    assert r.data["data"]["batch"] == 4 and r.variant == "single"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[main]\nobjective", "[main]\nstep = 3\nobjective"), "unknown key 'step' in [main]"),
        (('name = "ok"', 'name = "ok"\n[trian]\nx = 1'), "unknown key 'trian'"),
        (("crop = 32", 'crop = "big"'), "'data.crop' must be a side in pixels from 8 to 8192"),
        (("crop = 32", "crop = -5"), "from 8 to 8192"),
        (("crop = 32", "crop = 4"), "from 8 to 8192"),
        (("crop = 32", "crop = 32\nbatch = 0"), "'data.batch' must be a whole number from 1 to 4,096"),
        (("crop = 32", "crop = 32\nbatch = 1000000000"), "'data.batch' must be a whole number from 1"),
        (("crop = 32", "crop = 4096\nbatch = 4096"), "pixels per step"),
        (('name = "ok"', 'name = "ok"\nseed = -1'), "'seed' must be a whole number from 0"),
        (('name = "ok"', 'name = "ok"\n[train]\ncheckpoint_every = 0'), "'train.checkpoint_every'"),
        (("crop = 32", "crop = 32\nworkers = -1"), "'data.workers'"),
        (("crop = 32", "crop = 32\nresize = 16"), "resize (16) must be at least crop"),
        (("[main]\nobjective", '[main]\nsteps = "ten"\nobjective'), "'main.steps'"),
        (("[main]\nobjective", "[main]\nsteps = 2.7\nobjective"), "'main.steps'"),
        (("[main]\nobjective", '[main]\nlr = "fast"\nobjective'), "'main.lr' must be a number in (0, 10]"),
        (("[main]\nobjective", "[main]\nlr = nan\nobjective"), "'main.lr' must be a number in (0, 10]"),
        (("[main]\nobjective", "[main]\nsteps = 1000000000000\nobjective"), "'main.steps'"),
        (('name = "ok"', 'name = "../../escape"'), "'name' must be a plain name"),
        (('name = "ok"', 'name = "ok"\nperceptual = 5'), "'perceptual'"),
        (('name = "ok"', 'name = "ok"\n[train]\nfp16_weights = "no"'), "true or false"),
        (("[[tune]]\nobjective", "[tune]\nobjective"), "list of tables"),
        (("[[tune]]\nobjective", '[[tune]]\nset = "main"\nobjective'), "'tune.set' must be an identifier"),
        (("[[tune]]\nobjective", '[[tune]]\nset = "a.b"\nobjective'), "identifier"),
        (('objective = "a"\n[[tune]]', 'objective = "zzz"\n[[tune]]'), "'zzz' is not defined"),
        (('[data]\nphotos = "photos"', "[data]"), "needs 'photos'"),
        (('name = "ok"', 'name = "ok"\n[model]\nvariant = "triple"'), "'model.variant'"),
        (('name = "ok"', 'name = "ok"\n[model]\nvariant = "dual"'), "tunes the sets 'high' and 'low'"),
        (('name = "ok"', 'name = "ok"\n[model]\narchitecture = "unet"'), "'model.architecture' must be"),
        (("crop = 32", "crop = 32\ncontext = -2"), "'data.context' must be a whole number from 0 to 256"),
        (
            ("[objectives.a]\nstyle", "[objectives.a]\nstyle_wieght = 3\nstyle"),
            "r.toml: objective 'a': unknown keys",
        ),
        (('name = "ok"', 'task = ["style"]\nname = "ok"'), "'task' must be one of"),
    ],
)
def test_mistakes_are_reported(tmp_path, change, message):
    old, new = change
    assert old in GOOD
    with pytest.raises(RecipeError) as info:
        load(tmp_path, GOOD.replace(old, new, 1))
    assert message in str(info.value)


def test_new_keys_leave_older_recipes_hash_alone(tmp_path):
    """Run caches and resumes are keyed by the recipe hash: keys added later have no default."""
    plain = load(tmp_path, GOOD)
    assert "architecture" not in plain.data["model"] and "context" not in plain.data["data"]
    explicit = load(tmp_path, GOOD.replace("crop = 32", "crop = 32\ncontext = 8"))
    assert explicit.hash != plain.hash and explicit.data["data"]["context"] == 8


def test_a_later_tune_table_is_named(tmp_path):
    dual = GOOD.replace('name = "ok"', 'name = "ok"\n[model]\nvariant = "dual"').replace(
        "[[tune]]\nobjective", '[[tune]]\nset = "high"\nobjective'
    )
    with pytest.raises(RecipeError) as info:
        load(tmp_path, dual + '[[tune]]\nset = "low"\nobjective = "a"\nlr = -1\n')
    assert "'tune.lr' must be a number in (0, 10], got -1 (in the [[tune]] table number 2)" in str(info.value)


def test_not_toml(tmp_path):
    with pytest.raises(RecipeError, match="not valid TOML"):
        load(tmp_path, "name = [unclosed")
