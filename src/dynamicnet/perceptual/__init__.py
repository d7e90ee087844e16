"""Perceptual-network (VGG16) weights from several offline sources, behind one loader."""

from .sources import (
    PREFERENCE,
    SOURCES,
    FetchError,
    converted_path,
    default_source,
    fetch,
    is_present,
    load_perceptual,
)

__all__ = [
    "PREFERENCE", "SOURCES", "FetchError", "converted_path", "default_source", "fetch", "is_present",
    "load_perceptual",
]  # fmt: skip
