"""Contact sheets: a grid of images with a label over each column."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont


def contact_sheet(
    rows: list[list[Image.Image]], labels: list[str], cell: int = 256, pad: int = 8
) -> Image.Image:
    """Rows of images (each shrunk to fit a ``cell`` x ``cell`` box) under column labels."""
    cols = max(len(r) for r in rows)
    font = ImageFont.load_default(size=max(12, cell // 14))
    label_h = font.size + 2 * pad
    sheet = Image.new("RGB", (cols * (cell + pad) + pad, label_h + len(rows) * (cell + pad)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, text in enumerate(labels[:cols]):
        x = pad + c * (cell + pad) + cell // 2
        draw.text((x, label_h // 2), text, fill="black", font=font, anchor="mm")
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            thumb = img.copy()
            thumb.thumbnail((cell, cell), Image.Resampling.LANCZOS)
            x = pad + c * (cell + pad) + (cell - thumb.width) // 2
            y = label_h + r * (cell + pad) + (cell - thumb.height) // 2
            sheet.paste(thumb, (x, y))
    return sheet
