"""The ``dynamicnet`` command. Each verb is one module of this package, a thin layer over
the library: it parses its options and calls the functions the server calls too.

Errors a user can cause (bad paths, damaged images, wrong alpha, unreadable models)
print one line on stderr and exit with status 2, leaving no partial output files.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..data.images import ImageTooLargeError
from ..errors import DynamicNetError, one_line, printable
from . import (
    complete,
    data,
    demo,
    evaluate,
    export,
    generate,
    import_official,
    info,
    stylize,
    stylize_video,
    train,
    weights,
)
from .common import EXIT_USAGE, CommandError, Parser, protect_negative_numbers

COMMANDS = (
    train, stylize, stylize_video, complete, generate, info, demo, export, evaluate, weights, data,
    import_official,
)  # fmt: skip
"""In the order ``dynamicnet --help`` lists them; each has ``register(verbs)``."""


def get_args_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="dynamicnet",
        description="Dynamic-Net: move a trained network between two objectives with one knob, alpha.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    for command in COMMANDS:
        command.register(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Pillow logs what it finds wrong in a damaged file; the error line below says it once
    logging.getLogger("PIL").addHandler(logging.NullHandler())
    parser = get_args_parser()
    try:
        args = parser.parse_args(protect_negative_numbers(sys.argv[1:] if argv is None else list(argv)))
    except SystemExit as exit_:  # --help, or a usage error already printed as one line
        return exit_.code
    if args.version:
        from .. import __version__

        print(f"dynamicnet {__version__}")
        return 0
    if args.verb is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except (CommandError, DynamicNetError) as err:
        raisable = isinstance(err, ImageTooLargeError) and hasattr(args, "max_megapixels")
        hint = "; --max-megapixels raises the limit" if raisable else ""
        print(f"dynamicnet {args.verb}: error: {printable(one_line(str(err)))}{hint}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # disk full, unwritable folder, ...
        where = f"{err.filename}: " if err.filename else ""
        message = printable(one_line(where + str(err.strerror or err)))
        print(f"dynamicnet {args.verb}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"dynamicnet {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
