"""The base class of every error caused by input a user can fix.

The command line prints these as one line and exits with status 2; library users can
catch them all with ``except dynamicnet.errors.DynamicNetError``.
"""

import re


class DynamicNetError(Exception):
    """Bad input: a missing or damaged file, a wrong alpha, an inconsistent recipe..."""


def one_line(message: str) -> str:
    """Error text for a terminal or an HTTP answer: no colour codes, no line breaks, not endless."""
    message = re.sub(r"\x1b\[[0-9;]*m", "", message)
    message = " ".join(line.strip() for line in message.splitlines() if line.strip())
    return message if len(message) <= 500 else message[:497] + "..."


def printable(text: object) -> str:
    """``text`` safe to print: control characters (a file name can hold escape sequences that
    rewrite a terminal) are shown as escapes, like ``repr`` does."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
