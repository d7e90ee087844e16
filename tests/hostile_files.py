"""Hostile and odd input files, made on the fly (nothing binary is stored in the repository).

    python tests/hostile_files.py OUT_DIR     # writes the corpus and lists it

``images(folder)`` and ``model_files(folder)`` return ``{name: (path, expected)}``, where
expected is "ok" (odd but valid: must succeed), "bad" (must be refused cleanly) or
"either" (a cut that may leave a whole image, such as a PNG missing only its end marker).
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def _photo(w: int = 40, h: int = 30, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def _bytes(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims a huge size (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * 3 * 16  # far fewer bytes than the header promises
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row))
        + chunk(b"IEND", b"")
    )


def _ramp16() -> np.ndarray:
    return (np.arange(1200).reshape(30, 40) * 50).astype(np.uint16)


IMAGE_NAMES = [
    "zero-bytes", "text-named-jpg", "jpeg-named-png", "bomb-header", "one-pixel", "one-by-10000", "cmyk",
    "grey-16bit", "palette-transparent", "animated-gif", "exif-rotated", "truncated-jpeg-0",
    "truncated-jpeg-1", "truncated-jpeg-2", "truncated-png-0", "truncated-png-1", "truncated-png-end",
]  # fmt: skip


def images(folder: Path) -> dict[str, tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    jpeg, png = _bytes(_photo(), "JPEG", quality=90), _bytes(_photo(), "PNG")
    files: dict[str, tuple[bytes, str, str]] = {
        "zero-bytes": (b"", ".jpg", "bad"),
        "text-named-jpg": (b"this is not an image\n", ".jpg", "bad"),
        "jpeg-named-png": (jpeg, ".png", "ok"),
        "bomb-header": (_png_claiming(100_000, 100_000), ".png", "bad"),
        "one-pixel": (_bytes(_photo(1, 1), "PNG"), ".png", "ok"),
        "one-by-10000": (_bytes(_photo(1, 10_000), "PNG"), ".png", "ok"),
        "cmyk": (_bytes(_photo().convert("CMYK"), "JPEG"), ".jpg", "ok"),
        "grey-16bit": (_bytes(Image.fromarray(_ramp16()), "PNG"), ".png", "ok"),
        "palette-transparent": (_bytes(_photo().convert("P"), "PNG", transparency=0), ".png", "ok"),
        "animated-gif": (_bytes(_photo(), "GIF", save_all=True, append_images=[_photo(1, 1)]), ".gif", "ok"),
    }  # fmt: skip
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: a viewer shows it 30 wide, 40 high
    files["exif-rotated"] = (_bytes(_photo(), "JPEG", exif=exif.tobytes()), ".jpg", "ok")
    for i, cut in enumerate((10, len(jpeg) // 2, len(jpeg) - 20)):
        files[f"truncated-jpeg-{i}"] = (jpeg[:cut], ".jpg", "bad")
    for i, cut in enumerate((20, len(png) // 2)):
        files[f"truncated-png-{i}"] = (png[:cut], ".png", "bad")
    files["truncated-png-end"] = (png[:-10], ".png", "either")
    out = {}
    for name, (data, ext, expected) in files.items():
        path = folder / f"{name}{ext}"
        path.write_bytes(data)
        out[name] = (path, expected)
    return out


class _Payload:
    """Unpickling this would create a file: a loader that unpickles untrusted files fails the test."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def model_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Files that claim to be models; every one must be refused with a message."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    corrupt = folder / "corrupt.safetensors"
    corrupt.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    out["corrupt-safetensors"] = (corrupt, "bad")
    foreign = folder / "foreign.safetensors"
    save_file({"weight": np.zeros((2, 2), np.float32)}, str(foreign), metadata={"format": "pt"})
    out["foreign-safetensors"] = (foreign, "bad")
    damaged_meta = folder / "damaged-metadata.safetensors"
    save_file({"weight": np.zeros(1, np.float32)}, str(damaged_meta), metadata={"dynamicnet": "{not json"})
    out["damaged-metadata"] = (damaged_meta, "bad")
    payload = folder / "payload.pth"
    payload.write_bytes(pickle.dumps({"main.conv1.conv2d.weight": _Payload(folder / "PWNED")}))
    out["pickle-payload"] = (payload, "bad")
    (folder / "zero.safetensors").write_bytes(b"")
    out["zero-bytes"] = (folder / "zero.safetensors", "bad")
    return out


def crafted_models(folder: Path, base: Path) -> dict[str, Path]:
    """A real model file with crafted metadata or weights; every one must be refused with a
    message before anything large is allocated."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    with safe_open(str(base), framework="np") as fh:
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
        meta = json.loads(fh.metadata()["dynamicnet"])
    first_block = next(iter(meta["blocks"]))
    deep = "[" * 5000 + "]" * 5000

    def block(**change):
        return {**meta["blocks"], first_block: {**meta["blocks"][first_block], **change}}

    block_weight = next(k for k in tensors if first_block in k and k.endswith("weight"))
    reshaped = dict(tensors)
    reshaped[block_weight] = tensors[block_weight].reshape(-1)
    poisoned = dict(tensors)
    poisoned[block_weight] = np.full_like(tensors[block_weight], np.nan)
    huge = dict(tensors)
    huge[block_weight] = np.full_like(tensors[block_weight], 3e38)
    wider = block(channels=meta["blocks"][first_block]["channels"] * 2)
    nowhere = {**meta["blocks"], "zzz": {"at": "nowhere.at.all", "channels": 8}}
    cases = {
        "alpha-range-nulls": ({**meta, "alpha_range": [None, None]}, tensors),
        "alpha-range-strings": ({**meta, "alpha_range": ["low", "high"]}, tensors),
        "nested-5000-deep": (None, tensors),
        "block-at-empty": ({**meta, "blocks": block(at="")}, tensors),
        "block-channels-changed": ({**meta, "blocks": wider}, tensors),
        "weights-reshaped": (meta, reshaped),
        "name-is-a-list": ({**meta, "name": ["a", "b"]}, tensors),
        "huge-channel-count": ({**meta, "blocks": block(channels=10**6)}, tensors),
        "extra-block": ({**meta, "blocks": nowhere}, tensors),
        "nan-weights": (meta, poisoned),
    }  # fmt: skip
    out = {}
    for name, (config, weights) in cases.items():
        path = folder / f"{name}.safetensors"
        text = '{"task": "style", "x": ' + deep + "}" if config is None else json.dumps(config)
        save_file(weights, str(path), metadata={"dynamicnet": text})
        out[name] = path
    overflow = folder / "overflowing-weights.safetensors"  # finite weights, an output that is not
    save_file(huge, str(overflow), metadata={"dynamicnet": json.dumps(meta)})
    out["overflowing-weights"] = overflow
    return out


def recipes(folder: Path) -> dict[str, Path]:
    """Malformed recipe files; every one must be refused with a message."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "not-toml": "name = [unclosed\n",
        "not-utf8": None,
        "unknown-task": 'task = "dance"\n',
        "wrong-type": 'task = "style"\nseed = "zero"\n',
        "no-stages": 'task = "style"\n[data]\nphotos = "x"\n[objectives.a]\nstyle = "s.jpg"\n',
        "empty": "",
    }
    out = {}
    for name, text in texts.items():
        path = folder / f"{name}.toml"
        if text is None:
            path.write_bytes(b'name = "\xff\xfe"\n')
        else:
            path.write_text(text)
        out[name] = path
    return out


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    listing = {
        "images": {k: [str(p), e] for k, (p, e) in images(root / "images").items()},
        "models": {k: [str(p), e] for k, (p, e) in model_files(root / "models").items()},
        "recipes": {k: str(p) for k, p in recipes(root / "recipes").items()},
    }
    print(json.dumps(listing, indent=2))
