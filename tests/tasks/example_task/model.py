"""The tint network: three convolutions, with the tuning blocks after the middle one."""

from __future__ import annotations

import copy
from collections import OrderedDict

import torch
from torch import Tensor, nn

from dynamicnet.core import AlphaLike, attach
from dynamicnet.networks.blocks import ConvTuningBlock
from dynamicnet.tasks import AppModel

TASK = "tint"


def default_config(width: int = 8) -> dict:
    return {
        "task": TASK,
        "architecture": "three-conv",
        "width": width,
        "variant": "single",
        "sets": ["default"],
        "blocks": {"block0": {"at": "middle", "channels": width}},
    }


class TintModel(AppModel):
    """``model(x, alpha=...)``: x (N, 3, H, W) RGB in [0, 1] to the same."""

    task = TASK

    def forward(self, x: Tensor, alpha: AlphaLike = 0.0) -> Tensor:
        return torch.sigmoid(self.net(x * 2 - 1, alpha=alpha))


def build(config: dict) -> TintModel:
    width = int(config["width"])
    layers = OrderedDict(
        first=nn.Conv2d(3, width, 3, padding=1),
        act=nn.ReLU(),
        middle=nn.Conv2d(width, width, 3, padding=1),
        act2=nn.ReLU(),
        last=nn.Conv2d(width, 3, 3, padding=1),
    )
    at = {name: (b["at"], b["channels"]) for name, b in config["blocks"].items()}
    net = attach(nn.Sequential(layers), at, lambda c: ConvTuningBlock(c, depth=1), variant="single")
    return TintModel(net, copy.deepcopy(config))
