"""Property-based checks: alpha parsing and image decoding take any input without crashing."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from dynamicnet.cli.alpha_args import parse_alpha
from dynamicnet.core import AlphaError
from dynamicnet.core.alpha import MAX_ALPHA, per_block
from dynamicnet.data.images import ImageReadError, read_image

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(st.text(max_size=40))
def test_any_alpha_text_parses_or_is_an_alpha_error(text):
    try:
        value = parse_alpha(text)
    except AlphaError as err:
        assert str(err) and "\n" not in str(err)
        return
    leaves = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
    assert all(isinstance(v, float) and v == v and abs(v) != float("inf") for v in leaves)


@SETTINGS
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_numbers_round_trip_and_the_range_is_enforced_downstream(x):
    assert parse_alpha(repr(x)) == x
    assert parse_alpha(f"block0={x!r}") == {"block0": x}
    if abs(x) <= MAX_ALPHA:
        assert per_block(x, ["block0"])["block0"] == x
    else:
        with pytest.raises(AlphaError, match="within"):
            per_block(x, ["block0"])


@SETTINGS
@given(st.binary(max_size=2048))
def test_any_bytes_decode_or_are_an_image_read_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "input.jpg"
    path.write_bytes(data)
    try:
        image = read_image(path)
    except ImageReadError as err:
        assert str(path) in str(err)
        return
    assert image.dim() == 3 and image.shape[0] == 3 and float(image.min()) >= 0 and float(image.max()) <= 1


MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]


FORMATS = ["PNG", "TIFF", "GIF", "JPEG"]


@SETTINGS
@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.sampled_from(MODES),
    st.sampled_from(FORMATS),
    st.integers(0, 2**31),
)
def test_valid_images_of_any_mode_and_size_decode_to_rgb(tmp_path_factory, w, h, mode, fmt, seed):
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB").convert(mode)
    buffer = io.BytesIO()
    try:
        img.save(buffer, format=fmt)
    except (OSError, ValueError, KeyError):
        return  # this format cannot hold this mode: nothing to decode
    path = tmp_path_factory.mktemp("img") / f"input.{fmt.lower()}"
    path.write_bytes(buffer.getvalue())
    image = read_image(path)
    assert image.shape == (3, h, w) and image.dtype == torch.float32
    assert float(image.min()) >= 0 and float(image.max()) <= 1
