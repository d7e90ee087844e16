"""The browser demo (FastAPI): ``dynamicnet demo``."""

from ..extras import require

require("fastapi", "demo", "the browser demo")
require("uvicorn", "demo", "the browser demo")
require("python_multipart", "demo", "the browser demo")

from .app import create_app, serve  # noqa: E402 - after the check that names the missing extra

__all__ = ["create_app", "serve"]
