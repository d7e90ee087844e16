"""Instance normalisation that can be told its statistics, and can report them.

Rendering a huge image in tiles needs every InstanceNorm to use the statistics of the
whole image, not of the tile. Inside :func:`outside_statistics`, a
:class:`RenderInstanceNorm` normalises with the statistics the context gives for it and
shows its input to the context's meter, so whole-image values can be gathered tile by
tile. The context is per thread: other threads rendering with the same modules are not
affected. Outside it, the layer is a plain InstanceNorm2d whose fast path (``fast``) takes
the fused batch-norm kernel for single channels-last bf16 images.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Meter = Callable[["RenderInstanceNorm", Tensor], None]
Statistics = Mapping["RenderInstanceNorm", tuple[Tensor, Tensor]]  # (mean, var), each (N, C)

_context = threading.local()


@contextmanager
def outside_statistics(statistics: Statistics, meter: Meter | None = None) -> Iterator[None]:
    """In this thread, norms found in ``statistics`` use them; every norm reports to ``meter``."""
    saved = getattr(_context, "value", None)
    _context.value = (statistics, meter)
    try:
        yield
    finally:
        _context.value = saved


class RenderInstanceNorm(nn.InstanceNorm2d):
    """Drop-in for an affine ``nn.InstanceNorm2d`` without running statistics."""

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__(num_features, eps=eps, affine=affine)
        self.fast = False

    def forward(self, x: Tensor) -> Tensor:
        statistics, meter = getattr(_context, "value", None) or ({}, None)
        if meter is not None:
            meter(self, x)
        fixed = statistics.get(self)
        if fixed is None and not self.fast:
            return super().forward(x)
        if fixed is None:
            if x.shape[0] == 1:
                # one image: instance norm is batch norm on training statistics, which has a
                # fused kernel for channels-last bf16 (7x faster than var_mean and a multiply-add)
                return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)
            return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)
        mean, var = fixed
        scale = torch.rsqrt(var.float() + self.eps)
        shift = -mean.float() * scale
        if self.affine:
            scale = scale * self.weight.float()
            shift = shift * self.weight.float() + self.bias.float()
        n, c = scale.shape
        return torch.addcmul(shift.view(n, c, 1, 1).to(x.dtype), x, scale.view(n, c, 1, 1).to(x.dtype))


def swap_instance_norms(module: nn.Module) -> list[RenderInstanceNorm]:
    """Replace every plain InstanceNorm2d in ``module`` (in place) by a RenderInstanceNorm."""
    swapped = []
    for name, child in list(module.named_children()):
        if type(child) is nn.InstanceNorm2d:
            if child.track_running_stats:
                raise ValueError(f"{name}: InstanceNorm2d with running statistics is not supported")
            new = RenderInstanceNorm(child.num_features, eps=child.eps, affine=child.affine)
            new.load_state_dict(child.state_dict())
            new.to(next(child.parameters(), torch.empty(0)).device)
            setattr(module, name, new)
            swapped.append(new)
        else:
            swapped.extend(swap_instance_norms(child))
    return swapped
