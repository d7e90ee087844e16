"""The GAN study: KID, diversity, the attribute classifier, and a quick end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dynamicnet.cli.main import main
from dynamicnet.data.celeba import read_face_table
from dynamicnet.evaluation.distribution import diversity, kid, polynomial_mmd2
from dynamicnet.evaluation.runs import EvaluationError
from dynamicnet.tasks import load_recipe
from dynamicnet.tasks.gan.attributes import train_classifier
from dynamicnet.tasks.gan.study import GanStudy, is_monotone


def write_colour_faces(root: Path, n: int = 60, seed: int = 0, partition: bool = True) -> Path:
    """A CelebA-layout set where the attribute ``Red`` is plain to see: red faces vs blue ones."""
    rng = np.random.default_rng(seed)
    (root / "img_align_celeba").mkdir(parents=True)
    rows, splits = [], []
    for i in range(n):
        red = i % 2 == 0
        base = np.array([200, 40, 40] if red else [40, 40, 200], dtype=float)
        pixels = np.clip(base + rng.normal(0, 25, (218, 178, 3)), 0, 255).astype(np.uint8)
        name = f"{i + 1:06d}.jpg"
        Image.fromarray(pixels).save(root / "img_align_celeba" / name)
        rows.append(f"{name} {' 1' if red else '-1'} {' 1' if i % 3 == 0 else '-1'}")
        splits.append(f"{name} {0 if i < n * 0.6 else 2}")
    (root / "list_attr_celeba.txt").write_text(f"{n}\nRed Smiling\n" + "\n".join(rows) + "\n")
    if partition:
        (root / "list_eval_partition.txt").write_text("\n".join(splits) + "\n")
    return root


GAN_RECIPE = """
name = "colour-gan"
task = "gan"
[data]
faces = "{faces}"
split = "train"
batch = 4
[model]
latent = 8
ngf = 4
ndf = 4
[adversary]
real_label = 0.9
r1 = 0.5
[main]
subset = "~Red"
steps = 3
[[tune]]
subset = "Red"
steps = 3
"""


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    same, _ = kid(a, b, subsets=10, subset_size=200)
    shifted, _ = kid(a, b + 1.0, subsets=10, subset_size=200)
    assert abs(same) < 0.05
    assert shifted > 10 * max(abs(same), 1e-3)
    # Unbiased: the kernel of a set with itself leaves out the diagonal.
    x = rng.normal(size=(5, 3))
    k = (x @ x.T / 3 + 1) ** 3
    expected = 2 * (k.sum() - np.trace(k)) / 20 - 2 * k.mean()
    assert polynomial_mmd2(x, x) == pytest.approx(expected)


def test_diversity_is_zero_for_a_collapsed_set():
    rng = np.random.default_rng(1)
    assert diversity(np.ones((50, 8))) == 0.0
    assert diversity(rng.normal(size=(50, 8))) > 1.0
    with pytest.raises(ValueError):
        diversity(np.ones((1, 8)))


def test_monotone_allows_small_dips_only():
    assert is_monotone([0.1, 0.3, 0.29, 0.8])
    assert not is_monotone([0.1, 0.5, 0.3, 0.8])


def test_classifier_learns_a_visible_attribute(tmp_path):
    table = read_face_table(write_colour_faces(tmp_path / "faces"))
    clf = train_classifier(table, "Red", steps=30, batch=8)
    assert clf.held_out == 24
    assert clf.accuracy == 1.0
    assert clf.expression == "Red"


def test_quick_study_end_to_end_and_cached_rerun(tmp_path, capsys):
    faces = write_colour_faces(tmp_path / "faces")
    recipe = tmp_path / "gan.toml"
    recipe.write_text(GAN_RECIPE.format(faces=faces))
    out = tmp_path / "study"
    args = ["evaluate", "gan", str(recipe), "--out", str(out), "--quick", "--no-progress"]
    args += ["--perceptual", "random"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "share classified 'Red' over alpha" in printed
    results = json.loads((out / "results.json").read_text())
    assert [p["knob"] for p in results["points"]["dynamic-net"]] == [0.0, 0.5, 1.0]
    # alpha 0 is the main generator: the same faces as the fixed generator at the main end.
    dn0, fixed0 = results["points"]["dynamic-net"][0], results["points"]["fixed"][0]
    assert dn0["kid_main"] == pytest.approx(fixed0["kid_main"])
    assert results["points"]["dni"][0]["kid_main"] == pytest.approx(fixed0["kid_main"])
    assert results["real"]["tuned"]["rate"] > results["real"]["main"]["rate"]
    for name in ("report.md", "study.png", "samples.png"):
        assert (out / name).stat().st_size > 0
    # A rerun trains nothing and reuses every score.
    assert main(args) == 0
    assert "training" not in capsys.readouterr().out
    assert json.loads((out / "results.json").read_text())["points"] == results["points"]


def test_dni_fine_tunes_under_the_block_stage_settings(tmp_path, monkeypatch):
    # A fair baseline: DNI's fine-tuning gets the block's steps, rate, soft labels and R1.
    path = tmp_path / "gan.toml"
    faces = write_colour_faces(tmp_path / "faces")
    path.write_text(GAN_RECIPE.format(faces=faces) + "lr = 5e-5\nr1 = 2.0\nreal_label = 0.8\n")
    study = GanStudy(load_recipe(path), tmp_path / "out")
    trained = {}
    monkeypatch.setattr(study.runs, "train", lambda kind, recipe, key: trained.setdefault(kind, recipe))
    dynamic = tmp_path / "dynamic.safetensors"
    dynamic.write_bytes(b"weights")
    study.dni_net(dynamic)
    main = trained["dni"].data["main"]
    assert (main["steps"], main["lr"], main["r1"], main["real_label"]) == (3, 5e-5, 2.0, 0.8)
    assert main["subset"] == "Red" and main["init"] == str(dynamic.resolve())


def test_study_refuses_what_it_cannot_measure(tmp_path, recipe):
    with pytest.raises(EvaluationError, match="GAN recipes"):
        GanStudy(load_recipe(recipe), tmp_path / "out")
    faces = write_colour_faces(tmp_path / "faces", partition=False)
    path = tmp_path / "gan.toml"
    path.write_text(GAN_RECIPE.format(faces=faces).replace('split = "train"\n', ""))
    with pytest.raises(EvaluationError, match="list_eval_partition"):
        GanStudy(load_recipe(path), tmp_path / "out")
    gan_recipe = tmp_path / "gan-ok.toml"
    gan_recipe.write_text(GAN_RECIPE.format(faces=write_colour_faces(tmp_path / "faces-ok")))
    with pytest.raises(EvaluationError, match="at least 2"):
        GanStudy(load_recipe(gan_recipe), tmp_path / "out", samples=0)
    with pytest.raises(EvaluationError, match="at least 2 points"):
        GanStudy(load_recipe(gan_recipe), tmp_path / "out", knob_points=1)
