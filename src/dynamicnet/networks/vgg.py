"""VGG16 convolutional trunk up to relu4_3, in torchvision's layer numbering.

Defined here because torchvision is not a dependency; ``features.N`` indices match
torchvision's so its state dicts load directly.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import torch
from torch import Tensor, nn

from ..errors import DynamicNetError

# (out_channels per conv, "M" for max-pool), through conv4_3.
_LAYOUT = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512]
# Indices in ``features`` of the ReLUs whose outputs the losses use.
FEATURE_LAYERS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# torchvision's ImageNet VGG16; the name carries the start of the file's sha256.
TORCHVISION_FILE = "vgg16-397923af.pth"
_FEATURE_KEY = re.compile(r"^features\.(\d+)\.(weight|bias)$")


class PerceptualWeightsError(DynamicNetError, ValueError):
    """Perceptual-network weights that are missing or not a VGG16."""


class VGG16Features(nn.Module):
    """Returns the relu1_2, relu2_2, relu3_3 and relu4_3 activations of an ImageNet-normalised input."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for item in _LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, item, 3, padding=1), nn.ReLU()]
                cin = item
        self.features = nn.Sequential(*layers)
        self._names = {idx: name for name, idx in FEATURE_LAYERS.items()}

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        out = {}
        for idx, layer in enumerate(self.features):
            x = layer(x)
            if idx in self._names:
                out[self._names[idx]] = x
        return out


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_torchvision_vgg16() -> Path | None:
    """torchvision's VGG16 file in the torch hub cache, if a torchvision download left it there."""
    path = Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILE
    return path if path.is_file() else None


def load_vgg16(source: str | Path | None, seed: int = 0) -> tuple[VGG16Features, dict]:
    """A frozen VGG16 trunk and a record of where its weights came from.

    ``source`` is a torchvision-layout file (``features.N.weight``; loaded with
    ``weights_only=True``); "auto" for torchvision's file in the torch hub cache when
    present and random init otherwise (with a warning); None / "random" for a seeded
    random init (tests only: random features give colour blobs, not style transfer).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        vgg = VGG16Features()
    if str(source) == "auto":
        source = find_torchvision_vgg16()
        if source is None:
            print(
                f"note: no ImageNet VGG16 found ({TORCHVISION_FILE} in {torch.hub.get_dir()}/checkpoints);"
                " training with a random VGG16, which gives colour blobs rather than brush strokes",
                file=sys.stderr,
            )
    if source is None or str(source) == "random":
        record = {"source": "random", "seed": seed}
    else:
        path = Path(source)
        if not path.is_file():
            raise PerceptualWeightsError(f"perceptual weights not found: {path}")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unpickling failure is a bad file
            raise PerceptualWeightsError(f"{path}: not a readable PyTorch weights file ({err})") from err
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise PerceptualWeightsError(f"{path}: holds a {type(state).__name__}, not a state dict")
        wanted = {}
        for key, value in state.items():
            match = _FEATURE_KEY.match(key) if isinstance(key, str) else None
            if match and int(match.group(1)) < len(vgg.features):
                wanted[key] = value
        try:
            missing, _ = vgg.load_state_dict(wanted, strict=False)
        except RuntimeError as err:
            raise PerceptualWeightsError(f"{path}: not a VGG16 state dict ({err})") from err
        if missing:
            raise PerceptualWeightsError(f"{path}: not a VGG16 state dict (missing {missing[0]})")
        record = {"source": "file", "file": path.name, "sha256": sha256_of(path)}
    vgg.requires_grad_(False)
    vgg.eval()
    return vgg, record
