"""Every entry point against the hostile-file corpus (tests/hostile_files.py): one line and
exit 2 (or success where the input is merely odd), a 4xx from the server, never a traceback,
never a half-written output, never an unpickled payload."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dynamicnet.cli.main import main
from dynamicnet.server import create_app

_spec = importlib.util.spec_from_file_location(
    "hostile_files", Path(__file__).parents[1] / "hostile_files.py"
)
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    return {"images": hostile.images(root / "images"), "models": hostile.model_files(root / "models"),
            "recipes": hostile.recipes(root / "recipes"), "root": root}  # fmt: skip


def _check_cli(code: int, err: str, expected: str, out_dir: Path, stem: str) -> None:
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 1, err
    allowed = {"ok": {0}, "bad": {2}, "either": {0, 2}}[expected]
    assert code in allowed, (code, err)
    if out_dir.exists():
        assert not [p for p in out_dir.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]
        if code == 2:
            assert not list(out_dir.glob(f"{stem}_*")), "a refused input left an output behind"
    if code == 0:
        assert list(out_dir.glob(f"{stem}_*.png")), "success without an output"


def test_the_corpus_is_what_the_tests_name(corpus):
    assert sorted(corpus["images"]) == sorted(hostile.IMAGE_NAMES)
    assert all(p.is_file() for p, _ in corpus["images"].values())


HANG = 60  # seconds: far beyond any of these inputs' work; a case that takes longer hangs


@pytest.mark.parametrize("name", hostile.IMAGE_NAMES)
def test_stylize_and_complete_take_every_odd_image(
    name, corpus, tiny_model_file, tiny_completion_file, tmp_path, capsys
):
    path, expected = corpus["images"][name]
    out = tmp_path / "styled"
    start = time.monotonic()
    code = main(["stylize", str(path), "--model", str(tiny_model_file), "--alpha", "0.5", "--out", str(out)])
    _check_cli(code, capsys.readouterr().err, expected, out, path.stem)
    out = tmp_path / "filled"
    code = main(
        ["complete", str(path), "--box", "0,0,1,1", "--model", str(tiny_completion_file), "--out", str(out)]
    )
    err = capsys.readouterr().err
    if code == 2 and "covers the whole 1x1 image" in err:  # a 1x1 image: the box is the whole image
        expected = "bad"
    _check_cli(code, err, expected, out, path.stem)
    assert time.monotonic() - start < HANG, "an odd input must never hang a command"


def test_the_server_answers_every_odd_upload_with_200_or_4xx(corpus, tiny_model_file):
    with TestClient(
        base_url="http://127.0.0.1", app=create_app({"tiny": tiny_model_file}, precision="fp32")
    ) as client:
        for name, (path, expected) in corpus["images"].items():
            start = time.monotonic()
            r = client.post("/api/images", files={"file": (path.name, path.read_bytes(), "image/png")})
            assert time.monotonic() - start < HANG, name
            if expected == "ok" or (expected == "either" and r.status_code == 200):
                assert r.status_code == 200, (name, r.text)
                render = client.post(
                    "/api/render", json={"image": r.json()["id"], "model": "tiny", "max_side": 64}
                )
                assert render.status_code == 200, (name, render.text)
            else:
                assert 400 <= r.status_code < 500 and r.json()["detail"], (name, r.status_code, r.text)


@pytest.mark.parametrize("verb", ["info", "stylize", "export"])
def test_model_files_that_are_not_ours_are_refused_and_never_unpickled(verb, corpus, tmp_path, capsys):
    photo = corpus["images"]["one-pixel"][0]
    for name, (path, _) in corpus["models"].items():
        args = {
            "info": ["info", str(path)],
            "stylize": ["stylize", str(photo), "--model", str(path), "--out", str(tmp_path / "o")],
            "export": ["export", "onnx", str(path), "--out", str(tmp_path / "m.onnx")],
        }[verb]
        code, err = main(args), capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, (name, err)
    assert not (corpus["root"] / "models" / "PWNED").exists()
    assert not (tmp_path / "m.onnx").exists()


def test_importing_a_pickle_payload_never_runs_it(corpus, tmp_path, capsys):
    payload = corpus["models"]["pickle-payload"][0]
    code = main(
        ["import-official", str(payload), "--variant", "normal", "--out", str(tmp_path / "m.safetensors")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (corpus["root"] / "models" / "PWNED").exists()
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("verb", ["train", "evaluate"])
def test_malformed_recipes_are_one_line_errors(verb, corpus, tmp_path, capsys):
    for name, path in corpus["recipes"].items():
        args = (
            ["train", str(path), "--out", str(tmp_path / name)]
            if verb == "train"
            else [
                "evaluate",
                "objective-space",
                str(path),
                "--photos",
                str(tmp_path),
                "--out",
                str(tmp_path / name),
            ]
        )
        code, err = main(args), capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, (name, err)
        assert not (tmp_path / name / "checkpoint.pt").exists()


def test_the_brush_alpha_map_takes_every_odd_image(corpus, tiny_model_file):
    import base64

    with TestClient(
        base_url="http://127.0.0.1", app=create_app({"tiny": tiny_model_file}, precision="fp32")
    ) as client:
        photo = client.get("/api/samples").json()[0]["id"]
        for name, (path, expected) in corpus["images"].items():
            url = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
            body = {"image": photo, "model": "tiny", "alpha": 1.0, "alpha_map": url, "max_side": 64}
            start = time.monotonic()
            r = client.post("/api/render", json=body)
            assert time.monotonic() - start < HANG, name
            if expected == "ok":
                assert r.status_code == 200, (name, r.text)
            else:
                assert r.status_code == 200 or (400 <= r.status_code < 500 and r.json()["detail"]), (
                    name,
                    r.text,
                )


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "{gan}", "--n", "0", "--out", "{out}"],
        ["generate", "{gan}", "--n", "-3", "--out", "{out}"],
        ["generate", "{gan}", "--seed", "-1", "--out", "{out}"],
        ["generate", "{gan}", "--alpha", "nan", "--out", "{out}"],
        ["generate", "{gan}", "--alpha", "1e9", "--out", "{out}"],
        ["generate", "{gan}", "--animate", "{out}/x.txt", "--out", "{out}"],
        ["generate", "{photo}", "--out", "{out}"],
        ["data", "avatars", "--out", "{out}", "--n", "0"],
        ["data", "avatars", "--out", "{out}", "--n", "-5"],
        ["data", "avatars", "--out", "{file}", "--n", "2"],
        ["data", "avatars", "--out", "{out}", "--n", "2", "--seed", "-1"],
    ],
)
def test_odd_generate_and_data_arguments_are_one_line_errors(args, corpus, tiny_gan_file, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    photo = corpus["images"]["one-pixel"][0]
    args = [a.format(gan=tiny_gan_file, out=tmp_path / "out", photo=photo, file=blocker) for a in args]
    code, err = main(args), capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
