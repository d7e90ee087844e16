"""The general Dynamic-Net mechanism: tuning blocks on any model, and alpha handling."""

from .alpha import AlphaError, AlphaLike, map_tensors, resolve
from .tuning import DynamicNet, attach, infer_channels

__all__ = ["AlphaError", "AlphaLike", "DynamicNet", "attach", "infer_channels", "map_tensors", "resolve"]
