"""DCGAN generator and discriminator for 64x64 images (Radford et al.), as in the reference.

Layer names follow the authors' Dynamic DCGAN checkpoints (``layer0`` .. ``layer4``, each a
sequence of transposed convolution, BatchNorm, ReLU), so their weights load by name.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

# The tuning block of the paper's face experiments: after the third layer, at 16 x 16.
GAN_INSERTION_POINTS = {"block0": "layer2"}


def dcgan_init(module: nn.Module) -> None:
    """N(0, 0.02) convolutions; BatchNorm scales N(1, 0.02), shifts 0 (DCGAN's initialisation)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class Generator(nn.Sequential):
    """z (N, latent, 1, 1) -> image (N, 3, 64, 64) in [-1, 1]; ``ngf`` = 128 in the paper."""

    def __init__(self, latent: int = 100, ngf: int = 128) -> None:
        def up(cin: int, cout: int, first: bool = False) -> nn.Sequential:
            conv = (
                nn.ConvTranspose2d(cin, cout, 4, 1, 0, bias=False)
                if first
                else nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)
            )
            return nn.Sequential(conv, nn.BatchNorm2d(cout), nn.ReLU(True))

        layers = OrderedDict(
            layer0=up(latent, ngf * 8, first=True),  # 4 x 4
            layer1=up(ngf * 8, ngf * 4),  # 8 x 8
            layer2=up(ngf * 4, ngf * 2),  # 16 x 16
            layer3=up(ngf * 2, ngf),  # 32 x 32
            layer4=nn.Sequential(nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh()),  # 64 x 64
        )
        super().__init__(layers)
        self.latent = latent
        dcgan_init(self)


class Discriminator(nn.Module):
    """image (N, 3, 64, 64) in [-1, 1] -> one logit per image (the sigmoid is in the loss)."""

    def __init__(self, ndf: int = 128) -> None:
        super().__init__()

        def down(cin: int, cout: int, norm: bool = True) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, 2, 1, bias=False)]
            if norm:
                layers.append(nn.BatchNorm2d(cout))
            return [*layers, nn.LeakyReLU(0.2, inplace=True)]

        self.main = nn.Sequential(
            *down(3, ndf, norm=False),  # 32
            *down(ndf, ndf * 2),  # 16
            *down(ndf * 2, ndf * 4),  # 8
            *down(ndf * 4, ndf * 8),  # 4
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
        )
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x).flatten()
