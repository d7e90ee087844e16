"""Optional dependencies. ``pip install dynamicnet`` gives the library, training and the
command line for images; each extra adds one kind of work:

- ``demo``: the browser demo (FastAPI, uvicorn);
- ``video``: video files (PyAV);
- ``faces``: the offline avatar face set (python-avatars, CairoSVG);
- ``export``: checking ONNX exports with onnxruntime;
- ``studies``: ``dynamicnet evaluate`` and the histogram colour method (matplotlib,
  scikit-image), and OpenCV's classical fills the completion study compares with;
- ``all``: every one of them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import DynamicNetError


class MissingExtraError(DynamicNetError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


PIP_NAMES = {
    "skimage": "scikit-image",
    "python_multipart": "python-multipart",
    "python_avatars": "python-avatars",
}
"""Import names that differ from the name pip installs."""


def pyplot(what: str) -> ModuleType:
    """matplotlib's pyplot on its file-only backend (studies write figures, never show them)."""
    require("matplotlib", "studies", what).use("Agg")
    return require("matplotlib.pyplot", "studies", what)


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import ``module``, or say in one line which extra ``what`` needs."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise MissingExtraError(
            f"{what} needs {PIP_NAMES.get(top, top)}, which is not installed: "
            f'pip install "dynamicnet[{extra}]" (in a checkout: pip install -e ".[{extra}]")'
        ) from None
