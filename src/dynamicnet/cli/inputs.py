"""Input images for the commands that take files or folders of them (stylize, restore).

Files named one by one are all read before any output, so a bad one stops the run cleanly.
Folders are walked (their outputs mirror them); a bad file inside one is skipped and counted,
and an image whose outputs all exist is skipped, so a stopped run resumes where it ended.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import printable
from .common import CommandError, add_no_progress

if TYPE_CHECKING:  # the commands register without importing torch
    import torch


def add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="*", help="image files or folders (before --alpha)")
    p.add_argument(
        "--recursive", "-r", action="store_true",
        help="folders: also their subfolders (the output mirrors the tree)",
    )  # fmt: skip
    add_no_progress(p, "folders: no progress bar")


def check_images_given(args) -> None:
    """Before anything else: images given after ``--alpha`` would be read as alphas."""
    if not args.images:
        alphas = getattr(args, "alpha", None) or []
        hint = " (put the images before --alpha)" if any(Path(a).is_file() for a in alphas) else ""
        raise CommandError(f"no input images given{hint}")


class Inputs:
    """The images of ``args.images`` with the folder each one's outputs go to.

    ``read(path)`` reads one image (raising ``ImageReadError``); ``finished(path, folder)``
    says whether a walked image's outputs all exist already (an earlier run made them).
    """

    def __init__(
        self, args, out_dir: Path, verb: str, read: Callable[[Path], torch.Tensor],
        finished: Callable[[Path, Path], bool] = lambda path, folder: False,
    ) -> None:  # fmt: skip
        self.verb, self.read, self.finished, self.no_progress = verb, read, finished, args.no_progress
        self.jobs = _jobs(args.images, out_dir, args.recursive, verb)
        self.named = {path: read(path) for path, _, walked in self.jobs if not walked}
        self.folders = any(walked for _, _, walked in self.jobs)
        self.skipped: list[str] = []
        self.done = 0

    def __iter__(self) -> Iterator[tuple[Path, Path, torch.Tensor]]:
        from tqdm import tqdm

        from ..data.images import ImageReadError

        bar = tqdm(self.jobs, desc=self.verb, unit="image", disable=self.no_progress or not self.folders)
        for path, folder, walked in bar:
            if not walked:
                yield path, folder, self.named[path]
                continue
            if self.finished(path, folder):
                self.done += 1  # finished by an earlier run: resume where it stopped
                continue
            try:
                image = self.read(path)
            except ImageReadError as err:  # inside a folder: skip and count
                self.skipped.append(str(err))
                continue
            folder.mkdir(parents=True, exist_ok=True)
            yield path, folder, image

    def say(self, line: str) -> None:
        """A line that does not break the progress bar."""
        if self.folders:
            from tqdm import tqdm

            tqdm.write(line)
        else:
            print(line)

    def report(self, out_dir: Path) -> None:
        if self.done:
            print(f"{self.done} image(s) already {self.verb}d in {out_dir}: skipped")
        if self.skipped:
            print(
                f"skipped {len(self.skipped)} unreadable file(s): "
                + "; ".join(map(printable, self.skipped[:3]))
                + (" ..." if len(self.skipped) > 3 else "")
            )


def _jobs(images: list[str], out_dir: Path, recursive: bool, verb: str) -> list[tuple[Path, Path, bool]]:
    """(input file, its output folder, found in a folder?) for each input."""
    from ..data.folder import PHOTO_SUFFIXES

    jobs = []
    out = out_dir.resolve()
    for name in images:
        path = Path(name)
        if not path.is_dir():
            jobs.append((path, out_dir, False))
            continue
        if path.resolve() == out:
            raise CommandError(
                f"--out {printable(out_dir)} is the input folder: a rerun would {verb} the outputs; "
                "choose another folder"
            )
        pattern = path.rglob("*") if recursive else path.glob("*")
        found = sorted(
            f for f in pattern
            if f.is_file() and f.suffix.lower() in PHOTO_SUFFIXES and not f.resolve().is_relative_to(out)
        )  # fmt: skip
        if not found:
            raise CommandError(
                f"{path}: no image files{'' if recursive else ' (add --recursive for subfolders)'}"
            )
        jobs += [(f, out_dir / f.parent.relative_to(path), True) for f in found]
    names = Counter((folder, f.stem) for f, folder, _ in jobs)
    if clashes := [(stem, n) for (_, stem), n in names.items() if n > 1]:
        stem, n = clashes[0]
        raise CommandError(
            f"{n} inputs are named {printable(stem)}: their outputs would overwrite each other; "
            f"{verb} them into separate --out folders"
        )
    return jobs
