"""Contact sheets: a grid of images with a label over each column; plain tiled grids."""

from __future__ import annotations

import math

import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor


def tile(images: Tensor, columns: int | None = None, fill: float = 1.0) -> Tensor:
    """(N, C, H, W) -> one (C, rows * H, columns * W) image; ``columns`` defaults to a square."""
    n, c, h, w = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = -(-n // columns)
    grid = torch.full((c, rows * h, columns * w), fill, dtype=images.dtype)
    for i, image in enumerate(images):
        r, k = divmod(i, columns)
        grid[:, r * h : (r + 1) * h, k * w : (k + 1) * w] = image
    return grid


def contact_sheet(
    rows: list[list[Image.Image]],
    labels: list[str],
    cell: int = 256,
    pad: int = 8,
    row_labels: list[str] | None = None,
) -> Image.Image:
    """Rows of images (each shrunk to fit a ``cell`` x ``cell`` box) under column labels,
    with an optional label left of each row."""
    cols = max(len(r) for r in rows)
    thumbs = []
    for row in rows:
        thumbs.append([])
        for img in row:
            thumb = img.copy()
            thumb.thumbnail((cell, cell), Image.Resampling.LANCZOS)
            thumbs[-1].append(thumb)
    heights = [max(t.height for t in row) for row in thumbs]
    font = ImageFont.load_default(size=max(12, cell // 14))
    label_h = font.size + 2 * pad
    left = 0
    if row_labels:
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        left = int(max(probe.textlength(t, font=font) for t in row_labels)) + 2 * pad
    size = (left + cols * (cell + pad) + pad, label_h + sum(heights) + pad * len(rows))
    sheet = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(sheet)
    for c, text in enumerate(labels[:cols]):
        x = left + pad + c * (cell + pad) + cell // 2
        while len(text) > 4 and draw.textlength(text, font=font) > cell:
            text = text[:-4] + "..."  # keep labels inside their column
        draw.text((x, label_h // 2), text, fill="black", font=font, anchor="mm")
    y = label_h
    for r, (row, height) in enumerate(zip(thumbs, heights)):
        if row_labels and r < len(row_labels):
            draw.text((pad, y + height // 2), row_labels[r], fill="black", font=font, anchor="lm")
        for c, thumb in enumerate(row):
            x = left + pad + c * (cell + pad) + (cell - thumb.width) // 2
            sheet.paste(thumb, (x, y + (height - thumb.height) // 2))
        y += height + pad
    return sheet
