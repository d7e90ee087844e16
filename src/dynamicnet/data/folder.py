"""Training photos from any folder: recursive listing, random crops, bad files skipped and counted.

Sample ``i`` of stage ``s`` is a pure function of (seed, s, i): which file (an epoch-wise
permutation) and where to crop. That is what lets a resumed run see exactly the data
an uninterrupted run would have seen, with any number of loader workers or processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, Sampler

from ..errors import DynamicNetError
from .images import ImageReadError, open_rgb8, pil_to_tensor, resize_shorter


class DatasetError(DynamicNetError, ValueError):
    """A training folder that cannot be used at all."""


# Raster formats people keep photos in (Pillow also claims .pdf, .eps, .h5 ... which are not photos).
PHOTO_SUFFIXES = frozenset(
    [".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"]
    + [".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".jp2", ".avif", ".heic"]
)


def list_images(root: str | Path, exclude: Sequence[str] = ()) -> tuple[list[Path], int]:
    """Image files under ``root`` (recursively, sorted) and the number of other files ignored.

    ``exclude`` holds glob patterns matched against each file's path relative to ``root``
    and against its name: photos held out of training (for evaluation). A pattern that
    matches nothing is an error, since it is most likely a typo.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder")
    files, ignored = [], 0
    unused = list(exclude)
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            relative = path.relative_to(root).as_posix()
            held = [p for p in exclude if fnmatch(relative, p) or fnmatch(path.name, p)]
            if held:
                unused = [p for p in unused if p not in held]
            elif path.suffix.lower() in PHOTO_SUFFIXES:
                files.append(path)
            else:
                ignored += 1
    if unused:
        raise DatasetError(f"{root}: held-out pattern {unused[0]!r} matches no file")
    if not files:
        raise DatasetError(f"{root}: no image files found (searched recursively)")
    return files, ignored


class KeyedImages(Dataset):
    """Images indexed by ``(stage, i)`` keys from :class:`StepSampler`, bad files skipped.

    Items come back as ``(image, skipped)``: ``skipped`` names the unreadable files passed
    over for this item. Subclasses say how a decoded file is prepared (once, cached for
    small sets) and how a sample is drawn from it with the item's own random generator.
    """

    draft: int | None = None  # let JPEG decoding shrink to about this size first

    def __init__(self, files: list[Path], seed: int = 0):
        self.files = list(files)
        self.seed = seed
        # Small folders stay decoded in memory; large ones are decoded per sample.
        self.cache = len(self.files) <= 2000
        self._cache: dict[int, Image.Image] = {}
        self._bad: set[int] = set()
        self._perms: dict[tuple[int, int], np.ndarray] = {}

    def prepare(self, img: Image.Image) -> Image.Image:
        return img

    def sample(self, img: Image.Image, rng: np.random.Generator) -> torch.Tensor:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.files)

    def _permutation(self, stage: int, epoch: int) -> np.ndarray:
        key = (stage, epoch)
        if key not in self._perms:
            self._perms = {key: np.random.default_rng([self.seed, stage, epoch]).permutation(len(self))}
        return self._perms[key]

    def load_prepared(self, index: int) -> Image.Image | None:
        """File ``index`` decoded and prepared, or None when it cannot be read."""
        if index in self._bad:
            return None
        if index not in self._cache:
            try:
                img = self.prepare(open_rgb8(self.files[index], draft=self.draft))
            except ImageReadError:
                self._bad.add(index)
                return None
            if not self.cache:
                return img
            self._cache[index] = img
        return self._cache[index]

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, str]:
        stage, i = key
        n = len(self)
        order = self._permutation(stage, i // n)
        skipped = []
        for attempt in range(n):  # an unreadable file: take the next one of the same epoch
            index = int(order[(i + attempt) % n])
            img = self.load_prepared(index)
            if img is not None:
                break
            skipped.append(str(self.files[index]))
        else:
            raise DatasetError(f"none of the {n} training images could be read")
        return self.sample(img, np.random.default_rng([self.seed, stage, i, 1])), "\n".join(skipped)


class RandomCrops(KeyedImages):
    """Square random crops (with random horizontal flips) of photos scaled to a shorter side."""

    def __init__(self, files: list[Path], crop: int, resize: int | None = None, seed: int = 0):
        super().__init__(files, seed)
        self.crop = crop
        self.resize = self.draft = resize or crop
        if self.resize < crop:
            raise ValueError(f"resize ({self.resize}) must be at least the crop size ({crop})")

    def prepare(self, img: Image.Image) -> Image.Image:
        return resize_shorter(img, self.resize)

    def sample(self, img: Image.Image, rng: np.random.Generator) -> torch.Tensor:
        w, h = img.size
        left = int(rng.integers(0, w - self.crop + 1))
        top = int(rng.integers(0, h - self.crop + 1))
        patch = img.crop((left, top, left + self.crop, top + self.crop))
        if rng.random() < 0.5:
            patch = patch.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return pil_to_tensor(patch)


class StepSampler(Sampler):
    """Keys for steps ``start..steps-1`` of one stage; process ``rank`` of ``world`` takes its share."""

    def __init__(self, stage: int, start: int, steps: int, batch: int, rank: int = 0, world: int = 1):
        self.stage, self.start, self.steps = stage, start, steps
        self.batch, self.rank, self.world = batch, rank, world

    def __len__(self) -> int:
        return (self.steps - self.start) * self.batch

    def __iter__(self):
        for step in range(self.start, self.steps):
            first = (step * self.world + self.rank) * self.batch
            for k in range(self.batch):
                yield (self.stage, first + k)
