"""The seeded mutation fuzzer (tests/fuzz.py) over images and model files: no 500, no
traceback, no hang. ``python tests/fuzz.py --cases 5000`` runs thousands."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("fuzz", Path(__file__).parents[1] / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz"] = fuzz  # its dataclasses look their module up
_spec.loader.exec_module(fuzz)


def test_every_format_seeds_the_fuzzer():
    import io

    from PIL import Image

    for ext, data in fuzz.seed_images().items():
        with Image.open(io.BytesIO(data)) as im:
            im.load()  # a valid file to start from (ICO picks its own size)
            assert im.size == (32, 24) or ext == "ico", ext


def test_mutated_images_and_model_files_never_break_an_entry_point(tiny_model_file, one_torch_thread):
    tally = fuzz.fuzz(240, seed=7, model_file=tiny_model_file)
    assert tally.cases == 240 and len(tally.kinds) > 20  # every format, every mutation
    assert (tally.server_errors, tally.tracebacks, tally.hangs) == (0, 0, 0), tally.failures
