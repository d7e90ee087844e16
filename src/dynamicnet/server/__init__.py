"""The browser demo (FastAPI): ``dynamicnet demo``."""

from .app import create_app, serve

__all__ = ["create_app", "serve"]
