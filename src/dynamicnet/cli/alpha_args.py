"""Parse alpha settings typed on the command line.

``0.5`` one value for every block; ``-0.6`` on dual models; ``0.2,0.7,1`` one value per
block in block order; ``block1=0.7`` or ``starry=0.3,wave=0.7`` values by block or set
name.
"""

from __future__ import annotations

import math
import re

from ..core import AlphaError, AlphaLike

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _number(text: str, spec: str) -> float:
    text = text.strip()
    if not _NUMBER.match(text):  # stricter than float(), which takes '1_0'
        finite = "finite " if text.lower().lstrip("+-") in ("inf", "infinity", "nan") else ""
        raise AlphaError(f"bad alpha {spec!r}: {text!r} is not a {finite}number")
    value = float(text)
    if not math.isfinite(value):  # '1e999'
        raise AlphaError(f"bad alpha {spec!r}: {text!r} is not a finite number")
    return value


def parse_alpha(spec: str) -> AlphaLike:
    spec = spec.strip()
    if not spec:
        raise AlphaError("bad alpha '': empty")
    parts = [p.strip() for p in spec.split(",")]
    if all("=" in p for p in parts):
        out = {}
        for part in parts:
            name, _, value = part.partition("=")
            name = name.strip()
            if not name:
                raise AlphaError(f"bad alpha {spec!r}: missing name before '='")
            if name in out:
                raise AlphaError(f"bad alpha {spec!r}: {name!r} given twice")
            out[name] = _number(value, spec)
        return out
    if any("=" in p for p in parts):
        raise AlphaError(f"bad alpha {spec!r}: use all 'name=value' or all plain numbers")
    values = [_number(p, spec) for p in parts]
    return values[0] if len(values) == 1 else values


def alpha_label(spec: str) -> str:
    """A file-name-safe label for an alpha setting."""
    return re.sub(r"[^\w.=+-]+", "_", spec.strip().replace(",", "_"))


_TIME = re.compile(r"^(\d+\.?\d*|\.\d+)(s|ms)?$")


def parse_keyframes(specs: list[str]):
    """``0:0 5s:1 10s:0.3`` (TIME:ALPHA, TIME in seconds, ``s`` or ``ms`` optional) as an
    :class:`~dynamicnet.inference.video.AlphaSchedule`; a lone ``ALPHA`` holds for the whole video."""
    from ..inference.video import AlphaSchedule

    specs = [s.strip() for s in specs]
    if len(specs) == 1 and ":" not in specs[0] and not specs[0].endswith("s"):  # "5s": a time, no alpha
        return AlphaSchedule(((0.0, parse_alpha(specs[0])),))
    keys = []
    for spec in specs:
        when, colon, value = spec.partition(":")
        match = _TIME.match(when.strip())
        if not colon or not match:
            raise AlphaError(f"bad keyframe {spec!r}: use TIME:ALPHA, e.g. 0:0 5s:1 2500ms:0.3")
        seconds = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
        keys.append((seconds, parse_alpha(value)))
    keys.sort(key=lambda k: k[0])
    if len({t for t, _ in keys}) != len(keys):
        raise AlphaError("two keyframes at the same time")
    return AlphaSchedule(tuple(keys))
