"""stylize on folders: the output mirrors the tree, unreadable files are skipped and counted,
and a second run resumes where the first stopped."""

from __future__ import annotations

from dynamicnet.cli.main import main


def _tree(root, photo_factory):
    photo_factory(root / "a.jpg", seed=1)
    photo_factory(root / "sub" / "b.png", seed=2)
    photo_factory(root / "sub" / "deeper" / "c.jpg", seed=3)
    (root / "broken.jpg").write_text("not an image")
    (root / "notes.txt").write_text("not an image either, and not an image name")
    return root


def test_a_folder_is_mirrored_skipping_and_counting_bad_files(
    tiny_model_file, photo_factory, tmp_path, capsys
):
    root, out = _tree(tmp_path / "in", photo_factory), tmp_path / "out"
    args = ["stylize", str(root), "--recursive", "--model", str(tiny_model_file), "--alpha", "0", "1"]
    assert main([*args, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert made == [
        "a_alpha=0.png", "a_alpha=1.png", "sub/b_alpha=0.png", "sub/b_alpha=1.png",
        "sub/deeper/c_alpha=0.png", "sub/deeper/c_alpha=1.png",
    ]  # fmt: skip
    assert "skipped 1 unreadable file(s)" in printed and "broken.jpg" in printed

    (out / "sub" / "b_alpha=1.png").unlink()  # as if the first run had been stopped there
    before = (out / "a_alpha=0.png").stat().st_mtime_ns
    assert main([*args, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "2 image(s) already stylized" in printed and (out / "sub" / "b_alpha=1.png").is_file()
    assert (out / "a_alpha=0.png").stat().st_mtime_ns == before


def test_without_recursive_only_the_top_level(tiny_model_file, photo_factory, tmp_path, capsys):
    root, out = _tree(tmp_path / "in", photo_factory), tmp_path / "out"
    assert (
        main(["stylize", str(root), "--model", str(tiny_model_file), "--alpha", "1", "--out", str(out)]) == 0
    )
    assert sorted(p.name for p in out.rglob("*.png")) == ["a_alpha=1.png"]
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "x.jpg").write_bytes(b"")
    capsys.readouterr()
    assert main(["stylize", str(empty), "--model", str(tiny_model_file), "--out", str(out)]) == 2
    assert "no image files (add --recursive for subfolders)" in capsys.readouterr().err
