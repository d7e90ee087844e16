"""The style task's commands: ``stylize``, ``stylize-video``, ``export`` and the
objective-space study (``dynamicnet evaluate objective-space``)."""

from . import evaluate, export, stylize, stylize_video

COMMANDS = (stylize, stylize_video, export)
STUDIES = (evaluate,)
