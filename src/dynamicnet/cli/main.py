"""The ``dynamicnet`` command. Each verb is one module, a thin layer over the library: it
parses its options and calls the functions the server calls too. The verbs every model
shares live in this package; a task's own verbs (``stylize``, ``generate``, ``complete``) in
its folder's ``commands`` (see ``dynamicnet.tasks``).

Errors a user can cause (bad paths, damaged images, wrong alpha, unreadable models)
print one line on stderr and exit with status 2, leaving no partial output files.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..data.images import ImageTooLargeError
from ..errors import DynamicNetError, one_line, printable
from ..tasks import TASKS, front_end
from . import data, demo, evaluate, import_official, info, train, weights
from .common import EXIT_USAGE, CommandError, Parser, protect_negative_numbers

COMMANDS = (train, info, demo, evaluate, weights, data, import_official)
"""The commands every model shares, in the order ``dynamicnet --help`` lists them; each task's
own (``stylize``, ``generate``, ...) come after ``train``. Each has ``register(verbs)``."""


def task_commands() -> list:
    """The verbs the registered tasks bring (their ``commands`` front end's ``COMMANDS``)."""
    fronts = (front_end(task, "commands") for task in TASKS.values())
    return [command for front in fronts if front is not None for command in front.COMMANDS]


def get_args_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="dynamicnet",
        description="Dynamic-Net: move a trained network between two objectives with one knob, alpha.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    first, *rest = COMMANDS
    for command in (first, *task_commands(), *rest):
        command.register(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Pillow logs what it finds wrong in a damaged file; the error line below says it once
    logging.getLogger("PIL").addHandler(logging.NullHandler())
    parser = get_args_parser()
    try:
        args, unknown = parser.parse_known_args(
            protect_negative_numbers(sys.argv[1:] if argv is None else list(argv))
        )
    except SystemExit as exit_:  # --help, or a usage error already printed as one line
        return exit_.code
    if unknown:  # named with the verb they were given to, whose --help lists what it takes
        prog = f"dynamicnet {args.verb}" if args.verb else "dynamicnet"
        given = printable(" ".join(a.strip() for a in unknown))[:200]
        print(f"{prog}: error: unrecognized arguments: {given} (see {prog} --help)", file=sys.stderr)
        return EXIT_USAGE
    if args.version:
        from .. import __version__

        print(f"dynamicnet {__version__}")
        return 0
    if args.verb is None:
        parser.print_help()
        return EXIT_USAGE
    if getattr(args, "out", None) == "":  # '-o ""' would write into the current folder
        print(f"dynamicnet {args.verb}: error: --out is empty: give an output path", file=sys.stderr)
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
