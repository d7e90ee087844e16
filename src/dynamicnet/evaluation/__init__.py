"""Measuring trained models against their objectives."""

from .objectives import ObjectivePoint, measure_style_objectives

__all__ = ["ObjectivePoint", "measure_style_objectives"]
