"""Input paths checked before they are opened."""

from __future__ import annotations

import stat
from pathlib import Path

from ..errors import DynamicNetError, printable


def regular_file(path: str | Path, what: str = "a file", error: type[Exception] = DynamicNetError) -> Path:
    """``path`` if it is a regular file; anything else raises ``error`` before opening it:
    missing, a folder, or a FIFO or device (reading one would block, or never end)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"{printable(path)}: no such file") from None
    except OSError as err:
        raise error(f"{printable(path)}: cannot read ({err.strerror})") from None
    if stat.S_ISDIR(mode):
        raise error(f"{printable(path)}: is a folder, not {what}")
    if not stat.S_ISREG(mode):
        raise error(f"{printable(path)}: not a regular file (a pipe or a device?), not {what}")
    return path
