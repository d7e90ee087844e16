"""Export a style model to ONNX with alpha as graph inputs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ....cli.common import output_file
from ....errors import printable


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("export", help="export a model to another runtime")
    p.set_defaults(run=run)
    export = p.add_subparsers(dest="export_format", metavar="FORMAT", required=True)
    p = export.add_parser("onnx", help="ONNX graph with alpha as inputs (see docs/onnx.md)")
    p.add_argument("model", help="style model file (.safetensors) or shipped name")
    p.add_argument("--out", "-o", required=True, help="output file (.onnx)")
    p.add_argument(
        "--shared-alpha",
        action="store_true",
        help="one alpha input (one per block set) instead of one per block",
    )
    p.add_argument("--opset", type=int, default=17, help="ONNX opset, 13 to 20 (default 17)")
    p.add_argument("--no-check", action="store_true", help="skip the onnxruntime-vs-PyTorch check")


def run(args) -> int:
    from ....export import export_onnx

    output_file(Path(args.out), "--out")
    if Path(args.out).suffix.lower() != ".onnx":
        print(f"note: {printable(args.out)} will hold an ONNX model (usually named .onnx)", file=sys.stderr)
    report = export_onnx(
        args.model, args.out, shared_alpha=args.shared_alpha, opset=args.opset, check=not args.no_check
    )
    print(f"wrote {printable(report.path)}: an ONNX model (opset {report.opset})")
    print(f"inputs: {', '.join(report.inputs)}; output: {report.output}")
    if report.max_abs_diff is not None:
        print(f"onnxruntime vs PyTorch: max |difference| {report.max_abs_diff:.2g}")
    return 0
