"""Tuning-block architectures (psi). Channels in equal channels out; the caller adds the skip."""

from __future__ import annotations

from torch import Tensor, nn


class ConvTuningBlock(nn.Module):
    """Three 3x3 reflection-padded convolutions with ReLUs between, no normalisation.

    The block of the official Dynamic-Net style networks; small, and with no final
    activation so that ``psi(z)`` can push features in either direction.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.act = nn.ReLU()

    def forward(self, z: Tensor) -> Tensor:
        return self.conv2(self.act(self.conv1(self.act(self.conv0(z)))))
