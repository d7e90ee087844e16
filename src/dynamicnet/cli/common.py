"""What every command shares: one-line errors, the options several commands take, and the
checks they make before any work."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..data.images import DEFAULT_MAX_PIXELS
from ..errors import printable
from .alpha_args import parse_alpha

EXIT_USAGE = 2


class CommandError(Exception):
    """An error to show the user as one line."""


class Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit status 2, like every other error."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def protect_negative_numbers(argv: list[str]) -> list[str]:
    """argparse takes '-0.6,0.2,1' or '-1e-1' for an option; no option starts with '-<digit>'."""
    return [" " + a if re.match(r"^-\.?\d", a) else a for a in argv]


# --- options several commands take ------------------------------------------------------
def add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda, cuda:N")


def add_no_progress(p: argparse.ArgumentParser, help: str = "no progress bar") -> None:
    p.add_argument("--no-progress", action="store_true", help=help)


def add_preserve_color(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--preserve-color", nargs="?", const="luminance", choices=["luminance", "histogram"], metavar="HOW",
        help=f"keep the {what}'s colours: luminance (default; the style's brightness, the {what}'s chroma) "
        f"or histogram (the style's channels remapped to the {what}'s histograms)",
    )  # fmt: skip


def add_max_megapixels(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-megapixels", type=float, default=DEFAULT_MAX_PIXELS / 1e6, metavar="MP",
        help=f"refuse larger images before decoding them (default {DEFAULT_MAX_PIXELS / 1e6:g}; a file of "
        "a few KB can claim a huge image)",
    )  # fmt: skip


# --- checks before the work ---------------------------------------------------------------
def max_pixels(args) -> int:
    if not args.max_megapixels > 0:
        raise CommandError("--max-megapixels must be positive")
    return round(args.max_megapixels * 1e6)


def finite(output, setting: str):
    """A model's output, or an error: a non-finite output would be saved as a black image."""
    if not output.isfinite().all():
        raise CommandError(
            f"the output at alpha {printable(setting)} is not finite (NaN or infinity): "
            "far outside the trained range of alpha, or a damaged model"
        )
    return output


def output_file(path: Path, option: str) -> None:
    """Make an output file's folder before the work, or fail before it: not after the work."""
    if path.is_dir():
        raise CommandError(f"{option} {printable(path)}: is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CommandError(f"{option} {printable(path)}: cannot create its folder ({err.strerror})") from None


def alpha_settings(args, model) -> list[tuple[str, object]]:
    """``--alpha`` (and ``--block-alpha``) as (what the user wrote, the alpha), each once and checked
    against the model; values outside the trained range get a warning, not an error."""
    given = dict.fromkeys(s.strip() for s in (args.alpha or ["0", "0.5", "1"]))  # '-a 1 1': one output
    settings = [(spec, parse_alpha(spec)) for spec in given]
    for spec in (s.strip() for s in getattr(args, "block_alpha", [])):
        value = parse_alpha(spec)
        if isinstance(value, dict) and set(value) - set(model.block_names):
            unknown = sorted(set(value) - set(model.block_names))[0]
            raise CommandError(
                f"--block-alpha {spec!r}: unknown block {unknown!r}; "
                f"blocks are {', '.join(model.block_names)}"
            )
        if not isinstance(value, (list, dict)):
            raise CommandError(f"--block-alpha {spec!r}: give one value per block or name=value pairs")
        settings.append((spec, value))
    low, high = model.alpha_range
    for spec, value in settings:
        model.net.check_alpha(value)
        values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        if any(not low <= v <= high for v in values):
            print(
                f"warning: alpha {printable(spec)} leaves the trained range [{low:g}, {high:g}]: "
                "the output extrapolates and may break up",
                file=sys.stderr,
            )
    return settings


def load_for(spec: str, device, task: str, build, what: str):
    """A model for a command of one task (``build`` rebuilds that task's models), or a one-line
    error naming the model's own task: the command never needs the other tasks."""
    from ..io.model_file import load_model, read_metadata
    from ..models import resolve_model

    path = resolve_model(spec)
    theirs = read_metadata(path).get("task")
    if theirs != task:
        raise CommandError(
            f"{printable(spec)}: a {printable(str(theirs))!r} model, not {what} (see 'dynamicnet models')"
        )
    return load_model(path, {task: build}, device)
