"""Faces in CelebA's layout: the attribute file, the optional partition, subsets by expression.

The layout users have (and :mod:`dynamicnet.data.avatars` writes)::

    ROOT/img_align_celeba/000001.jpg ...
    ROOT/list_attr_celeba.txt        # count, attribute names, then "file  1 -1 ..." rows
    ROOT/list_eval_partition.txt     # optional: "file 0|1|2" (train, validation, test)

A subset is an attribute expression such as ``Blond_Hair``, ``~Male``, ``not Male``,
``Black_Hair & ~Eyeglasses`` or ``(Blond_Hair | Gray_Hair) and Smiling``. It is parsed
with Python's grammar and evaluated over the attribute table, never executed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .folder import DatasetError, KeyedImages
from .images import pil_to_tensor

IMAGE_FOLDER = "img_align_celeba"
ATTRIBUTE_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
SPLITS = {"train": 0, "val": 1, "test": 2}


@dataclass
class FaceTable:
    """Image files (relative to the image folder) and their attributes as a boolean matrix."""

    root: Path
    files: list[str]
    names: list[str]
    values: np.ndarray  # (files, names) bool
    splits: np.ndarray | None  # (files,) int: 0 train, 1 validation, 2 test; None without a partition

    @property
    def image_folder(self) -> Path:
        return self.root / IMAGE_FOLDER

    def column(self, name: str) -> np.ndarray:
        if name not in self.names:
            where = self.root / ATTRIBUTE_FILE
            raise DatasetError(f"unknown attribute {name!r}; {where} has {', '.join(self.names)}")
        return self.values[:, self.names.index(name)]

    def select(self, expression: str, split: str | None = None) -> list[Path]:
        """Paths of the images that satisfy ``expression`` (within ``split`` if given)."""
        mask = evaluate(expression, self) & self.split_mask(split)
        return [self.image_folder / f for f, keep in zip(self.files, mask) if keep]

    def split_mask(self, split: str | None) -> np.ndarray:
        """Which rows belong to ``split`` (every row for None)."""
        if split is None:
            return np.ones(len(self.files), dtype=bool)
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r} (use {', '.join(SPLITS)})")
        if self.splits is None:
            raise DatasetError(f"{self.root}: no {PARTITION_FILE}, so there is no {split!r} split")
        return self.splits == SPLITS[split]


def read_face_table(root: str | Path) -> FaceTable:
    """Read CelebA's attribute file (and partition file, when present) under ``root``."""
    root = Path(root)
    attr_path = root / ATTRIBUTE_FILE
    if not attr_path.is_file():
        raise DatasetError(
            f"{root}: no {ATTRIBUTE_FILE} (expected CelebA's layout: {IMAGE_FOLDER}/ and {ATTRIBUTE_FILE})"
        )
    try:
        lines = attr_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DatasetError(f"{attr_path}: cannot read ({err})") from err
    lines = [ln for ln in lines if ln.strip()]
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise DatasetError(f"{attr_path}: line 1 must be the number of images, line 2 the attribute names")
    names = lines[1].split()
    files, rows = [], []
    for number, line in enumerate(lines[2:], start=3):
        cells = line.split()
        if len(cells) != len(names) + 1 or any(c not in ("1", "-1", "0") for c in cells[1:]):
            raise DatasetError(
                f"{attr_path}, line {number}: expected a file name and {len(names)} values of 1 or -1"
            )
        files.append(cells[0])
        rows.append([c == "1" for c in cells[1:]])
    if int(lines[0]) != len(files):
        raise DatasetError(f"{attr_path}: says {int(lines[0])} images but lists {len(files)}")
    splits = None
    part_path = root / PARTITION_FILE
    if part_path.is_file():
        by_file = {}
        for number, line in enumerate(part_path.read_text(encoding="utf-8").splitlines(), start=1):
            cells = line.split()
            if not cells:
                continue
            if len(cells) != 2 or cells[1] not in ("0", "1", "2"):
                raise DatasetError(f"{part_path}, line {number}: expected 'file 0|1|2'")
            by_file[cells[0]] = int(cells[1])
        missing = [f for f in files if f not in by_file]
        if missing:
            raise DatasetError(f"{part_path}: no split for {missing[0]} (and {len(missing) - 1} more)")
        splits = np.array([by_file[f] for f in files], dtype=np.int8)
    values = np.array(rows, dtype=bool).reshape(len(files), len(names))
    return FaceTable(root, files, names, values, splits)


_NOT = (ast.Not, ast.Invert, ast.USub)


def evaluate(expression: str, table: FaceTable) -> np.ndarray:
    """The boolean mask of rows for which the attribute ``expression`` holds."""
    text = expression.strip().replace("!", "~")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as err:
        raise DatasetError(f"attribute expression {expression!r}: {err.msg}") from err

    def walk(node: ast.AST) -> np.ndarray:
        if isinstance(node, ast.Name):
            return table.column(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, _NOT):
            return ~walk(node.operand)
        if isinstance(node, ast.BoolOp):
            parts = [walk(v) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return combine.reduce(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            combine = np.logical_and if isinstance(node.op, ast.BitAnd) else np.logical_or
            return combine(walk(node.left), walk(node.right))
        raise DatasetError(
            f"attribute expression {expression!r}: use attribute names with and/or/not (or & | ~), "
            "and parentheses"
        )

    return walk(tree)


class AlignedFaces(KeyedImages):
    """CelebA's preprocessing for 64 px GANs: centre crop 108 x 108, resize to ``size``.

    Items are RGB tensors in [0, 1], keyed like every training set (bad files skipped).
    """

    def __init__(self, files: list[Path], crop: int = 108, size: int = 64, flip: bool = False, seed: int = 0):
        super().__init__(files, seed)
        self.crop, self.size, self.flip = crop, size, flip

    def prepare(self, img: Image.Image) -> Image.Image:
        w, h = img.size
        side = min(self.crop, w, h)
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side))
        return img.resize((self.size, self.size), Image.Resampling.BICUBIC, reducing_gap=2.0)

    def sample(self, img: Image.Image, rng: np.random.Generator) -> torch.Tensor:
        if self.flip and rng.random() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return pil_to_tensor(img)
