"""The style task's commands: ``stylize``, ``stylize-video``, ``new-style``, ``export`` and the
objective-space study (``dynamicnet evaluate objective-space``)."""

from . import evaluate, export, new_style, stylize, stylize_video

COMMANDS = (stylize, stylize_video, new_style, export)
STUDIES = (evaluate,)
