"""The patch discriminator of the image-to-image tasks' adversarial terms (completion,
restoration)."""

from __future__ import annotations

from torch import Tensor, nn


class PatchDiscriminator(nn.Module):
    """Real-vs-generated scores for overlapping patches (about 34 px), for images of any size.

    Scoring patches rather than whole images makes the adversarial term about local
    texture, which is what a blurry result lacks.
    """

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        w = width

        def down(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.2)]

        self.net = nn.Sequential(
            *down(3, w), *down(w, 2 * w), *down(2 * w, 4 * w),
            nn.Conv2d(4 * w, 4 * w, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * w, 1, 3, 1, 1),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
