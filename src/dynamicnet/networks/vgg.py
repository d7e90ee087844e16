"""VGG16 convolutional trunk up to relu4_3, in torchvision's layer numbering.

Defined here because torchvision is not a dependency; ``features.N`` indices match
torchvision's so its state dicts load directly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
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


class ImageNetNorm(nn.Module):
    """RGB in [0, 1] <-> ImageNet-normalised space, the input both VGG16 and the style network use."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, rgb: Tensor) -> Tensor:
        return (rgb - self.mean) / self.std

    def inverse(self, x: Tensor) -> Tensor:
        return x * self.std + self.mean


class PerceptualWeightsError(DynamicNetError, ValueError):
    """Perceptual-network weights that are missing or not a VGG16."""


class VGG16Features(nn.Module):
    """relu1_2, relu2_2, relu3_3 and relu4_3 activations of an ImageNet-normalised RGB input.

    ``input_pad`` is the value the first convolution pads with, in our input space. It is
    0 for networks trained on ImageNet-normalised input; a network converted from
    another preprocessing (0-255 BGR, RGB / 255, ...) pads with the input that its own
    preprocessing maps to 0, which keeps the converted network exact at the borders.

    ``feature_scale`` multiplies each returned layer (not the trunk): :meth:`calibrate`
    sets it so that every layer's mean activation on a fixed reference is 1.
    ``content_unit`` and ``style_unit`` are the content and style losses of fixed
    reference pairs; losses are measured in these units, so that loss weights mean
    roughly the same thing whichever weights are loaded.
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for item in _LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, item, 3, padding=1 if layers else 0), nn.ReLU()]
                cin = item
        self.features = nn.Sequential(*layers)
        self.register_buffer("input_pad", torch.zeros(3))
        self.register_buffer("feature_scale", torch.ones(len(FEATURE_LAYERS)), persistent=False)
        self.register_buffer("content_unit", torch.ones(()), persistent=False)
        self.register_buffer("style_unit", torch.ones(()), persistent=False)
        self._names = {idx: name for name, idx in FEATURE_LAYERS.items()}

    def trunk(self, x: Tensor) -> dict[str, Tensor]:
        """Unscaled activations: exactly what the source network computes."""
        pad = self.input_pad.view(1, 3, 1, 1).to(x.dtype)
        x = F.pad(x - pad, (1, 1, 1, 1)) + pad
        out = {}
        for idx, layer in enumerate(self.features):
            x = layer(x)
            if idx in self._names:
                out[self._names[idx]] = x
        return out

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        raw = self.trunk(x)
        return {name: raw[name] * self.feature_scale[i] for i, name in enumerate(FEATURE_LAYERS)}

    @torch.no_grad()
    def calibrate(self) -> VGG16Features:
        """Set the feature scales and loss units from :func:`reference_images`.

        Content unit: relu2_2 MSE between each reference image and a blurred copy.
        Style unit: Gram MSE (summed over the style layers) between two halves of the set.
        """
        device = self.input_pad.device
        if not all(bool(torch.isfinite(p).all()) for p in self.parameters()):
            raise PerceptualWeightsError("the VGG16 weights contain NaN or infinite values")
        ref = reference_images().to(device)
        raw = self.trunk(ref)
        means = torch.stack([raw[name].mean() for name in FEATURE_LAYERS])
        self.feature_scale.copy_(1.0 / means.clamp(min=1e-12))
        feats = self(ref)
        blurred = self(F.avg_pool2d(ref, 5, stride=1, padding=2, count_include_pad=False))
        self.content_unit.copy_(F.mse_loss(feats["relu2_2"], blurred["relu2_2"]).clamp(min=1e-12))
        half = ref.shape[0] // 2
        style = sum(F.mse_loss(gram(f[:half]), gram(f[half:])) for f in feats.values())
        self.style_unit.copy_(style.clamp(min=1e-12))
        return self


def gram(features: Tensor) -> Tensor:
    """F F^T / (C H W) per sample, in fp32 whatever the autocast dtype."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w).float()
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def reference_images(n: int = 4, size: int = 128, seed: int = 0) -> Tensor:
    """Fixed, natural-looking test input (1/f noise), ImageNet-normalised; no files needed."""
    g = torch.Generator().manual_seed(seed)
    spectrum = torch.randn(n, 3, size, size, generator=g, dtype=torch.complex64)
    fy = torch.fft.fftfreq(size).view(-1, 1)
    fx = torch.fft.fftfreq(size).view(1, -1)
    falloff = 1.0 / torch.sqrt(fx**2 + fy**2).clamp(min=1.0 / size)
    img = torch.fft.ifft2(spectrum * falloff).real
    lo = img.amin(dim=(2, 3), keepdim=True)
    hi = img.amax(dim=(2, 3), keepdim=True)
    return ImageNetNorm()((img - lo) / (hi - lo))
