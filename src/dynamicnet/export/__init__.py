"""Exports of trained models to other runtimes."""

from .onnx import ExportError, ExportReport, alpha_input_names, export_onnx

__all__ = ["ExportError", "ExportReport", "alpha_input_names", "export_onnx"]
