"""Fast rendering (precision, reuse across alpha, tiling) for trained models."""

from .precision import fast_bf16, resolve_precision
from .renderer import Keyframes, Renderer

__all__ = ["Keyframes", "Renderer", "fast_bf16", "resolve_precision"]
