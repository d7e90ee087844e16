"""Image reading and the training-folder dataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dynamicnet.data.folder import DatasetError, RandomCrops, StepSampler, list_images
from dynamicnet.data.images import ImageReadError, read_image, write_image


def test_sixteen_bit_keeps_its_range(tmp_path):
    arr = np.full((4, 5), 65535 // 2, dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "g16.png")
    x = read_image(tmp_path / "g16.png")
    assert x.shape == (3, 4, 5) and torch.allclose(x, torch.full_like(x, 0.5), atol=1e-3)


def test_transparency_is_composited_over_white(tmp_path):
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)  # fully transparent black
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    assert torch.equal(read_image(tmp_path / "t.png"), torch.ones(3, 2, 2))


def test_read_errors_name_the_file(tmp_path):
    (tmp_path / "a.png").write_text("hello")
    with pytest.raises(ImageReadError, match="a.png: not an image"):
        read_image(tmp_path / "a.png")
    with pytest.raises(ImageReadError, match="is a folder"):
        read_image(tmp_path)


def test_write_is_atomic_and_clamps(tmp_path):
    x = torch.tensor([-1.0, 0.5, 2.0]).view(3, 1, 1).expand(3, 2, 2)
    write_image(x, tmp_path / "o.png")
    assert np.asarray(Image.open(tmp_path / "o.png"))[0, 0].tolist() == [0, 128, 255]
    assert [p.name for p in tmp_path.iterdir()] == ["o.png"]


def test_samples_are_a_function_of_the_key(photo_dir):
    files, ignored = list_images(photo_dir)
    assert len(files) == 6 and ignored == 0  # includes the nested folder
    a, b = RandomCrops(files, 16, 24, seed=1), RandomCrops(files, 16, 24, seed=1)
    keys = list(StepSampler(stage=1, start=0, steps=4, batch=3))
    for key in keys[::-1]:  # order of access does not matter
        assert torch.equal(a[key][0], b[key][0])
    assert a[keys[0]][0].shape == (3, 16, 16)
    # two processes split each step's samples without overlap
    ranks = [list(StepSampler(0, 2, 4, 2, rank=r, world=2)) for r in range(2)]
    assert not set(ranks[0]) & set(ranks[1])
    assert sorted(ranks[0] + ranks[1]) == list(StepSampler(0, 2, 4, 4))


def test_every_file_is_seen_once_per_epoch_in_a_new_order(tmp_path):
    """Solid-colour photos tell which file each sample came from."""
    for i in range(6):
        Image.new("RGB", (30, 26), (40 * i, 0, 0)).save(tmp_path / f"c{i}.png")
    files, _ = list_images(tmp_path)
    data = RandomCrops(files, 16, 24, seed=0)

    def epoch(e):
        return [round(data[(0, e * 6 + k)][0][0, 0, 0].item() * 255 / 40) for k in range(6)]

    first, second = epoch(0), epoch(1)
    assert sorted(first) == sorted(second) == list(range(6))
    assert first != second


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        list_images(tmp_path / "absent")
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(DatasetError, match="no image files"):
        list_images(tmp_path)


def test_mostly_broken_folder_still_yields_samples(tmp_path, photo_factory):
    folder = tmp_path / "photos"
    photo_factory(folder / "good.jpg", size=(40, 40))
    data = (folder / "good.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (folder / "fake.png").write_text("text")
    (folder / "doc.pdf").write_text("%PDF not a photo")
    files, ignored = list_images(folder)
    assert ignored == 1 and len(files) == 3
    dataset = RandomCrops(files, 16, 24, seed=0)
    skipped = set()
    for key in StepSampler(0, 0, 100, 2):  # many epochs: every sample must come from the good file
        image, names = dataset[key]
        assert image.shape == (3, 16, 16)
        skipped.update(filter(None, names.split("\n")))
    assert {p.split("/")[-1] for p in skipped} == {"truncated.jpg", "fake.png"}


def test_nothing_readable_is_a_dataset_error(tmp_path):
    (tmp_path / "a.jpg").write_text("no")
    files, _ = list_images(tmp_path)
    with pytest.raises(DatasetError, match="none of the 1 training images"):
        RandomCrops(files, 8, 8)[(0, 0)]


def test_held_out_photos_are_left_out_and_typos_are_errors(photo_dir):
    files, _ = list_images(photo_dir, exclude=["p1.jpg", "nested/*"])
    names = {f.name for f in files}
    assert "p1.jpg" not in names and "deeper.png" not in names and "p0.jpg" in names
    with pytest.raises(DatasetError, match="p9.jpg"):
        list_images(photo_dir, exclude=["p9.jpg"])
