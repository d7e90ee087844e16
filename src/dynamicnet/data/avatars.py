"""Cartoon faces with known attributes, written in CelebA's layout: an offline stand-in for CelebA.

``python-avatars`` (MIT) draws the faces as SVG and ``cairosvg`` (LGPL) rasterises them.
Every attribute is chosen explicitly from curated parts (random parts include blank
faces, hats and costumes), recorded under CelebA's attribute names where CelebA has one,
so the same commands run on this set and on real CelebA. Face ``i`` of seed ``s`` is a
pure function of ``(s, i)``: a larger ``n`` extends a set, and an interrupted run resumes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..errors import DynamicNetError
from ..extras import require
from ..io.atomic import atomic_write
from .celeba import ATTRIBUTE_FILE, IMAGE_FOLDER, PARTITION_FILE
from .images import atomic_save

IMAGE_SIZE = (178, 218)  # CelebA's aligned images: the face centred, eyes at a fixed height
# CelebA's names where CelebA has the attribute; Red_Hair, Sunglasses and Dark_Skin are ours.
ATTRIBUTES = (
    "Bald", "Black_Hair", "Blond_Hair", "Brown_Hair", "Dark_Skin", "Eyeglasses", "Gray_Hair", "Male",
    "Mouth_Slightly_Open", "Mustache", "No_Beard", "Pale_Skin", "Red_Hair", "Smiling", "Straight_Hair",
    "Sunglasses", "Wavy_Hair",
)  # fmt: skip

HAIR_COLOURS = {  # attribute -> (python-avatars colour names, share of faces)
    "Black_Hair": (("BLACK", "BROWN_DARK"), 0.30),
    "Brown_Hair": (("BROWN", "AUBURN"), 0.28),
    "Blond_Hair": (("BLONDE", "BLONDE_GOLDEN", "PLATINUM"), 0.27),
    "Gray_Hair": (("SILVER_GRAY",), 0.08),
    "Red_Hair": (("RED",), 0.07),
}
# Hair styles that take the chosen colour (measured: some styles ignore it) and look like hair.
SHORT_HAIR = ("CAESAR_SIDE_PART", "CAESAR", "SHORT_FLAT", "SHORT_ROUND", "SHORT_WAVED", "SHORT_CURLY",
              "BUZZCUT", "POMPADOUR", "QUIFF")  # fmt: skip
LONG_HAIR = ("BIG_HAIR", "BOB", "BUN", "CURLY", "CURVY", "LONG_NOT_TOO_LONG", "MIA_WALLACE", "STRAIGHT_1",
             "STRAIGHT_STRAND", "LONG_HAIR_CURLY", "LOOSE_HAIR", "PIXIE", "TWIST_LONG_HAIR")  # fmt: skip
STRAIGHT = {"SHORT_FLAT", "STRAIGHT_1", "STRAIGHT_STRAND", "LONG_NOT_TOO_LONG", "BOB", "MIA_WALLACE"}
WAVY = {"SHORT_WAVED", "SHORT_CURLY", "BIG_HAIR", "CURLY", "CURVY", "LONG_HAIR_CURLY"}
BEARDS = ("BEARD_LIGHT", "BEARD_MEDIUM", "BEARD_MAGESTIC")
MOUSTACHES = ("MOUSTACHE_FANCY", "MOUSTACHE_MAGNUM")
GLASSES = ("PRESCRIPTION_1", "PRESCRIPTION_2", "ROUND")
SUNGLASSES = ("SUNGLASSES", "WAYFARERS", "KURT")
SMILES = ("SMILE", "BIG_SMILE", "TWINKLE", "DEFAULT")
NOT_SMILING = ("SERIOUS", "CONCERNED", "DISBELIEF", "SAD")
OPEN_MOUTH = {"BIG_SMILE", "DISBELIEF"}
EYES = ("DEFAULT", "HAPPY", "SIDE", "SQUINT", "SURPRISED", "WINK")
EYEBROWS = ("DEFAULT", "DEFAULT_NATURAL", "FLAT_NATURAL", "RAISED_EXCITED", "UP_DOWN_NATURAL")
SKINS = ("PALE", "LIGHT", "YELLOW", "TANNED", "BROWN", "DARK_BROWN", "BLACK")
CLOTHES = ("BLAZER_SHIRT", "BLAZER_SWEATER", "COLLAR_SWEATER", "HOODIE", "OVERALL", "SHIRT_CREW_NECK",
           "SHIRT_SCOOP_NECK", "SHIRT_V_NECK")  # fmt: skip


class AvatarError(DynamicNetError, RuntimeError):
    """The face renderer is missing or cannot run (python-avatars, cairosvg, the cairo library)."""


@dataclass(frozen=True)
class Face:
    """The parts of one face and the attributes they carry."""

    parts: dict
    background: tuple[int, int, int]
    scale: float
    shift: tuple[int, int]
    attributes: dict[str, bool]


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def sample_face(seed: int, index: int) -> Face:
    """The face number ``index`` of a set made with ``seed``."""
    rng = np.random.default_rng([seed, index])
    male = bool(rng.random() < 0.5)
    names = list(HAIR_COLOURS)
    colour_attr = names[int(rng.choice(len(names), p=[HAIR_COLOURS[n][1] for n in names]))]
    hair_colour = _pick(rng, HAIR_COLOURS[colour_attr][0])
    bald = male and bool(rng.random() < 0.08)
    hair = "NONE" if bald else _pick(rng, SHORT_HAIR if male else LONG_HAIR)
    facial = "NONE"
    if male and rng.random() < 0.45:
        facial = _pick(rng, BEARDS if rng.random() < 0.6 else MOUSTACHES)
    eyewear = rng.random()
    accessory = _pick(rng, GLASSES) if eyewear < 0.22 else _pick(rng, SUNGLASSES) if eyewear < 0.3 else "NONE"
    smiling = bool(rng.random() < 0.5)
    mouth = _pick(rng, SMILES if smiling else NOT_SMILING)
    skin = _pick(rng, SKINS)
    parts = {
        "top": hair, "hair_color": hair_colour, "facial_hair": facial, "facial_hair_color": hair_colour,
        "accessory": accessory, "mouth": mouth, "eyes": _pick(rng, EYES), "eyebrows": _pick(rng, EYEBROWS),
        "skin_color": skin, "clothing": _pick(rng, CLOTHES),
        "clothing_color": _pick(rng, ("BLACK", "BLUE_01", "BLUE_03", "GRAY_01", "HEATHER", "PASTEL_BLUE",
                                      "PASTEL_GREEN", "PASTEL_ORANGE", "PINK", "RED", "WHITE")),
    }  # fmt: skip
    hue = rng.random()
    background = tuple(int(v) for v in 255 * (0.62 + 0.3 * np.abs(np.cos(np.pi * (hue + np.arange(3) / 3)))))
    attributes = {
        "Bald": bald,
        "Black_Hair": not bald and colour_attr == "Black_Hair",
        "Blond_Hair": not bald and colour_attr == "Blond_Hair",
        "Brown_Hair": not bald and colour_attr == "Brown_Hair",
        "Gray_Hair": not bald and colour_attr == "Gray_Hair",
        "Red_Hair": not bald and colour_attr == "Red_Hair",
        "Dark_Skin": skin in ("DARK_BROWN", "BLACK"),
        "Pale_Skin": skin == "PALE",
        "Eyeglasses": accessory != "NONE",
        "Sunglasses": accessory in SUNGLASSES,
        "Male": male,
        "Mouth_Slightly_Open": mouth in OPEN_MOUTH,
        "Mustache": facial in MOUSTACHES,
        "No_Beard": facial not in BEARDS,
        "Smiling": smiling,
        "Straight_Hair": hair in STRAIGHT,
        "Wavy_Hair": hair in WAVY,
    }
    scale = float(rng.uniform(0.56, 0.64))
    shift = (int(rng.integers(-4, 5)), int(rng.integers(-4, 5)))
    return Face(parts, background, scale, shift, attributes)


def _renderer():
    pa = require("python_avatars", "faces", "the avatar face set")
    try:
        cairosvg = require("cairosvg", "faces", "the avatar face set")
    except OSError as err:  # cairosvg is installed but found no cairo library
        raise AvatarError(
            f"cannot draw faces: {err}; install the cairo library (apt install libcairo2)"
        ) from err
    return pa, cairosvg


def render_face(face: Face) -> Image.Image:
    """The face as a 178x218 RGB image laid out like CelebA's aligned crops."""
    pa, cairosvg = _renderer()
    enums = {
        "top": pa.HairType, "hair_color": pa.HairColor, "facial_hair": pa.FacialHairType,
        "facial_hair_color": pa.HairColor, "accessory": pa.AccessoryType, "mouth": pa.MouthType,
        "eyes": pa.EyeType, "eyebrows": pa.EyebrowType, "skin_color": pa.SkinColor,
        "clothing": pa.ClothingType, "clothing_color": pa.ClothingColor,
    }  # fmt: skip
    kwargs = {key: enums[key][value] for key, value in face.parts.items()}
    svg = pa.Avatar(style=pa.AvatarStyle.TRANSPARENT, **kwargs).render()
    # the SVG is 264x280 with the nose near (132, 150); CelebA's aligned noses sit near (89, 128)
    w, h = round(264 * face.scale), round(280 * face.scale)
    png = cairosvg.svg2png(bytestring=svg.encode(), output_width=w, output_height=h)
    sprite = Image.open(io.BytesIO(png)).convert("RGBA")
    canvas = Image.new("RGBA", IMAGE_SIZE, (*face.background, 255))
    left = 89 - round(132 * face.scale) + face.shift[0]
    top = 128 - round(150 * face.scale) + face.shift[1]
    canvas.alpha_composite(sprite, (left, top))
    return canvas.convert("RGB")


def _write_one(job: tuple[Path, int, int]) -> dict[str, bool]:
    path, seed, index = job
    face = sample_face(seed, index)
    if not path.exists():
        atomic_save(render_face(face), path, quality=95)
    return face.attributes


def file_name(index: int) -> str:
    return f"{index + 1:06d}.jpg"


def write_avatar_set(
    out: str | Path, n: int, seed: int = 0, workers: int | None = None, progress: bool = True
) -> Path:
    """Write ``n`` faces, the attribute file and an 80/10/10 partition into ``out``.

    Files already there are kept (the same seed draws the same faces), so a killed run
    resumes; the attribute and partition files are written last, atomically.
    """
    if n < 1:
        raise AvatarError(f"the number of faces must be at least 1, got {n}")
    _renderer()  # fail before creating anything
    out = Path(out)
    folder = out / IMAGE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(folder / file_name(i), seed, i) for i in range(n)]
    workers = workers or min(8, os.cpu_count() or 1)
    bar = tqdm(total=n, desc="faces", unit="face", disable=not progress)
    rows = []
    if workers == 1:
        results: Iterator = map(_write_one, jobs)
    else:
        pool = ProcessPoolExecutor(workers)
        results = pool.map(_write_one, jobs, chunksize=32)
    try:
        for attributes in results:
            rows.append(attributes)
            bar.update(1)
    finally:
        bar.close()
        if workers != 1:
            pool.shutdown(cancel_futures=True)
    lines = [str(n), " ".join(ATTRIBUTES)]
    for i, row in enumerate(rows):
        lines.append(f"{file_name(i)} " + " ".join(" 1" if row[a] else "-1" for a in ATTRIBUTES))
    atomic_write(out / ATTRIBUTE_FILE, lambda p: Path(p).write_text("\n".join(lines) + "\n"))
    split = [0 if i < 0.8 * n else 1 if i < 0.9 * n else 2 for i in range(n)]
    partition = "".join(f"{file_name(i)} {s}\n" for i, s in enumerate(split))
    atomic_write(out / PARTITION_FILE, lambda p: Path(p).write_text(partition))
    return out
