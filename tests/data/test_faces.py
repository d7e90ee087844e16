"""Face data: the offline avatar set, CelebA's files, attribute expressions, aligned crops."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dynamicnet.cli.main import main
from dynamicnet.data.avatars import ATTRIBUTES, render_face, sample_face, write_avatar_set
from dynamicnet.data.celeba import AlignedFaces, read_face_table
from dynamicnet.data.folder import DatasetError


@pytest.fixture(scope="module")
def avatars(tmp_path_factory):
    return write_avatar_set(tmp_path_factory.mktemp("avatars"), 80, seed=5, workers=1, progress=False)


def test_attribute_file_matches_the_faces_drawn(avatars):
    table = read_face_table(avatars)
    assert table.names == list(ATTRIBUTES) and len(table.files) == 80
    for i in (0, 17, 79):
        expected = sample_face(5, i).attributes
        assert dict(zip(table.names, table.values[i].tolist())) == expected
        with Image.open(table.image_folder / table.files[i]) as img:
            assert img.size == (178, 218)
    assert (table.splits == 0).sum() == 64 and (table.splits == 2).sum() == 8


def test_hair_colour_attribute_is_visible_in_the_pixels(avatars):
    """Blond hair is lighter than black hair where the hair is: above the forehead."""
    table = read_face_table(avatars)

    def hair_brightness(expression):
        values = []
        for path in table.select(expression):
            arr = np.asarray(Image.open(path).convert("L"), dtype=float)
            values.append(arr[62:72, 74:104].mean())
        return np.array(values)

    blond, black = hair_brightness("Blond_Hair & ~Bald"), hair_brightness("Black_Hair & ~Bald")
    assert len(blond) >= 5 and len(black) >= 5
    assert np.median(blond) > np.median(black) + 40


def test_same_seed_same_faces_and_an_interrupted_set_resumes(avatars, tmp_path):
    first = (avatars / "img_align_celeba" / "000003.jpg").read_bytes()
    again = write_avatar_set(tmp_path, 3, seed=5, workers=1, progress=False)
    assert (again / "img_align_celeba" / "000003.jpg").read_bytes() == first
    (again / "img_align_celeba" / "000002.jpg").unlink()
    (again / "list_attr_celeba.txt").unlink()
    write_avatar_set(tmp_path, 3, seed=5, workers=1, progress=False)
    assert (again / "img_align_celeba" / "000002.jpg").is_file()
    assert read_face_table(again).files == ["000001.jpg", "000002.jpg", "000003.jpg"]
    assert sample_face(6, 2) != sample_face(5, 2)


def test_data_avatars_command(tmp_path, capsys):
    assert (
        main(
            ["data", "avatars", "--out", str(tmp_path / "set"), "--n", "4", "--workers", "2", "--no-progress"]
        )
        == 0
    )
    assert "wrote 4 faces" in capsys.readouterr().out
    assert len(read_face_table(tmp_path / "set").files) == 4
    assert main(["data", "avatars", "--out", str(tmp_path / "x"), "--n", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("Blond_Hair", lambda c: c["Blond_Hair"]),
        ("~Male", lambda c: ~c["Male"]),
        ("!Male", lambda c: ~c["Male"]),
        ("not Male", lambda c: ~c["Male"]),
        ("Black_Hair & ~Eyeglasses", lambda c: c["Black_Hair"] & ~c["Eyeglasses"]),
        ("(Blond_Hair | Gray_Hair) and Smiling", lambda c: (c["Blond_Hair"] | c["Gray_Hair"]) & c["Smiling"]),
    ],
)
def test_attribute_expressions(avatars, expression, expected):
    table = read_face_table(avatars)
    columns = {name: table.values[:, i] for i, name in enumerate(table.names)}
    chosen = table.select(expression)
    mask = expected(columns)
    assert [p.name for p in chosen] == [f for f, keep in zip(table.files, mask) if keep]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("Blue_Hair", "unknown attribute 'Blue_Hair'"),
        ("Male &", "attribute expression"),
        ("__import__('os').system('true')", "use attribute names"),
        ("Male + 1", "use attribute names"),
    ],
)
def test_bad_expressions_are_errors_never_executed(avatars, expression, message):
    with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
        read_face_table(avatars).select(expression)


def test_splits_and_malformed_files(avatars, tmp_path):
    table = read_face_table(avatars)
    assert len(table.select("Male | ~Male", split="test")) == 8
    with pytest.raises(DatasetError, match="unknown split"):
        table.select("Male", split="dev")
    (tmp_path / "list_attr_celeba.txt").write_text("2\nMale Smiling\na.jpg 1 -1\nb.jpg 1\n")
    with pytest.raises(DatasetError, match="line 4"):
        read_face_table(tmp_path)
    (tmp_path / "list_attr_celeba.txt").write_text("3\nMale\na.jpg 1\nb.jpg -1\n")
    with pytest.raises(DatasetError, match="says 3 images but lists 2"):
        read_face_table(tmp_path)
    (tmp_path / "list_attr_celeba.txt").write_text("1\nMale\na.jpg 1\n")
    assert read_face_table(tmp_path).splits is None
    with pytest.raises(DatasetError, match="no list_eval_partition.txt"):
        read_face_table(tmp_path).select("Male", split="train")
    with pytest.raises(DatasetError, match="no list_attr_celeba.txt"):
        read_face_table(tmp_path / "nowhere")


def test_aligned_faces_are_centre_crops_and_skip_broken_files(avatars, tmp_path):
    files = read_face_table(avatars).select("Male")[:3]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(files[0].read_bytes()[:200])
    data = AlignedFaces([broken, *files], seed=0)
    seen_skips = []
    for i in range(8):
        x, skipped = data[(0, i)]
        assert x.shape == (3, 64, 64) and float(x.min()) >= 0 and float(x.max()) <= 1
        seen_skips += [s for s in skipped.split("\n") if s]
    assert seen_skips and set(seen_skips) == {str(broken)}
    face = render_face(sample_face(5, 0))
    crop = np.asarray(face.crop((35, 55, 143, 163)).resize((64, 64), Image.Resampling.BICUBIC), dtype=float)
    x, _ = AlignedFaces([avatars / "img_align_celeba" / "000001.jpg"])[(0, 0)]
    assert np.abs(x.permute(1, 2, 0).numpy() * 255 - crop).mean() < 6  # JPEG aside, the same pixels
