"""The browser demo."""

from __future__ import annotations

import argparse

from .common import CommandError


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("demo", help="the browser demo: pick a photo and a model, drag alpha")
    p.set_defaults(run=run)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    p.add_argument(
        "--model", "-m", action="append", metavar="M", help="serve these models (default: shipped)"
    )
    p.add_argument("--open", action="store_true", help="open the demo in a browser once it listens")
    p.add_argument(
        "--photos", metavar="DIR",
        help="photos that 'add your painting' trains on (default: the shipped models' photos, in a checkout)",
    )  # fmt: skip
    p.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME",
        help="also answer requests addressed to this host name (for a proxy or a LAN name; '*': any). "
        "Loopback names and, with --host 0.0.0.0, this machine's names are always answered",
    )  # fmt: skip


def run(args) -> int:
    from ..io.model_file import read_metadata
    from ..models import resolve_model
    from ..server import serve

    models = None
    if args.model:  # served under their recorded names (a run's model.safetensors has one)
        paths = list(dict.fromkeys(resolve_model(m) for m in args.model))
        names = [read_metadata(p).get("name") or p.stem for p in paths]
        # two files with one recorded name are both served, each named after its file too
        models = {n if names.count(n) == 1 else f"{n} ({p})": p for n, p in zip(names, paths)}
    if not 0 < args.port < 65536:
        raise CommandError(f"--port {args.port}: give a port from 1 to 65535")
    options = None
    if args.photos:  # the style view's training settings (dynamicnet.tasks.style.web.Training)
        from pathlib import Path

        if not Path(args.photos).is_dir():
            raise CommandError(f"--photos {args.photos}: not a folder")
        options = {"style": {"training": {"photos": Path(args.photos).resolve()}}}
    serve(args.host, args.port, models, args.allow_host, open_browser=args.open, view_options=options)
    return 0
