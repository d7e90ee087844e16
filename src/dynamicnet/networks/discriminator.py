"""The patch discriminator of the image-to-image tasks' adversarial terms (completion,
restoration)."""

from __future__ import annotations

from torch import Tensor, nn

NORMS = ("none", "instance")


class PatchDiscriminator(nn.Module):
    """Real-vs-generated scores for overlapping patches (about 34 px), for images of any size.

    Scoring patches rather than whole images makes the adversarial term about local
    texture, which is what a blurry result lacks.
    """

    def __init__(self, width: int = 64, norm: str = "none") -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
        w = width

        def normalised(c: int) -> list[nn.Module]:
            # per image and channel, so a score never depends on the rest of its batch; none adds
            # no layer, so the parameter names (and checkpoints) of the plain network stay as they were
            return [nn.InstanceNorm2d(c, affine=True)] if norm == "instance" else []

        def down(cin: int, cout: int, first: bool = False) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 4, 2, 1), *([] if first else normalised(cout)), nn.LeakyReLU(0.2)]

        self.net = nn.Sequential(
            *down(3, w, first=True), *down(w, 2 * w), *down(2 * w, 4 * w),
            nn.Conv2d(4 * w, 4 * w, 3, 1, 1), *normalised(4 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * w, 1, 3, 1, 1),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
