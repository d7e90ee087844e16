"""Model files: round trip, fp16 storage, metadata, refusal of foreign files."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

import dynamicnet
from dynamicnet.io.model_file import ModelFileError
from dynamicnet.tasks.style import model as style


def test_round_trip_is_exact_and_in_eval_mode(tmp_path):
    torch.manual_seed(0)
    model = style.build(style.default_config("dual"))
    with torch.no_grad():
        for p in model.net.block_parameters():
            p.normal_(0, 0.05)
    path = dynamicnet.save(model, tmp_path / "m.safetensors")
    loaded = dynamicnet.load(path)
    assert not loaded.training
    x = torch.rand(1, 3, 17, 23)
    with torch.no_grad():
        for alpha in (-1.0, 0.0, 0.4):
            assert torch.equal(model.eval()(x, alpha=alpha), loaded(x, alpha=alpha))
    meta = dynamicnet.read_metadata(path)
    assert meta["variant"] == "dual" and meta["alpha_range"] == [-1.0, 1.0]
    assert meta["blocks"]["block2"] == {"at": "up2", "channels": 32}


def test_fp16_storage_halves_the_file_and_loads_as_fp32(tmp_path):
    model = style.build(style.default_config())
    full = dynamicnet.save(model, tmp_path / "full.safetensors")
    half = dynamicnet.save(model, tmp_path / "half.safetensors", dtype=torch.float16)
    assert half.stat().st_size < 0.55 * full.stat().st_size
    loaded = dynamicnet.load(half)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    assert dynamicnet.read_metadata(half)["stored_dtype"] == "float16"


def test_refuses_foreign_and_damaged_files(tmp_path):
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(foreign))
    with pytest.raises(ModelFileError, match="not a dynamicnet model"):
        dynamicnet.load(foreign)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"junk" * 100)
    with pytest.raises(ModelFileError, match="not a safetensors model file"):
        dynamicnet.load(junk)
    wrong = tmp_path / "wrong.safetensors"
    config = style.default_config()
    save_file({"w": torch.zeros(3)}, str(wrong), metadata={"dynamicnet": json.dumps(config)})
    with pytest.raises(ModelFileError, match="do not match"):
        dynamicnet.load(wrong)
    with pytest.raises(ModelFileError, match="no such model file"):
        dynamicnet.load(tmp_path / "absent.safetensors")


def test_saving_over_a_folder_names_the_folder(tmp_path):
    (tmp_path / "m.safetensors").mkdir()
    with pytest.raises(IsADirectoryError) as info:
        dynamicnet.save(style.build(style.default_config()), tmp_path / "m.safetensors")
    assert info.value.filename == str(tmp_path / "m.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary file left
