"""Tuning-block architectures (psi). Channels in equal channels out; the caller adds the skip."""

from __future__ import annotations

from torch import Tensor, nn


class ConvTuningBlock(nn.Module):
    """``depth`` 3x3 reflection-padded convolutions with ReLUs between, no normalisation.

    Three is the block of the official Dynamic-Net style networks; small, and with no
    final activation so that ``psi(z)`` can push features in either direction. The fast
    style network uses two, which halves the blocks' share of its render time.
    """

    def __init__(self, channels: int, depth: int = 3) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"a tuning block needs at least one convolution, got depth {depth}")
        for i in range(depth):
            self.add_module(f"conv{i}", nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"))
        self.depth = depth
        self.act = nn.ReLU()

    def forward(self, z: Tensor) -> Tensor:
        for i in range(self.depth):
            z = getattr(self, f"conv{i}")(z)
            if i < self.depth - 1:
                z = self.act(z)
        return z
