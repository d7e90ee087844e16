"""What every application model shares: a DynamicNet inside, metadata, and its alpha names."""

from __future__ import annotations

from torch import nn

from ..core import DynamicNet


class AppModel(nn.Module):
    """An application's public model: ``net`` is the DynamicNet, ``config`` the file metadata."""

    task = ""

    def __init__(self, net: DynamicNet, config: dict) -> None:
        super().__init__()
        self.net = net
        self.config = config

    @property
    def block_names(self) -> list[str]:
        return self.net.block_names

    @property
    def set_names(self) -> list[str]:
        return self.net.set_names

    @property
    def variant(self) -> str:
        return self.net.variant

    @property
    def alpha_range(self) -> tuple[float, float]:
        return self.net.alpha_range
