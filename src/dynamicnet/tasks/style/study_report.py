"""Publishing an objective-space study: a markdown table, the objective plane, a picture grid."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from ...data.images import atomic_save, tensor_to_pil
from ...data.sheet import contact_sheet
from ...extras import pyplot
from ...io.atomic import atomic_write
from .knobs import METHODS, KnobMethods, fixed_output

LABELS = {
    "dynamic-net": "Dynamic-Net (alpha)",
    "pixel-blend": "pixel blend",
    "dni": "DNI",
    "fixed": "fixed networks",
}


def markdown_table(results: dict) -> str:
    """One row per O_m: the fixed network's value, then each knob method's best as a ratio."""
    methods = METHODS
    head = "| m | fixed network O_m | " + " | ".join(f"{LABELS[k]}: best / fixed (at knob)" for k in methods)
    lines = [head + " |", "|---" * (2 + len(methods)) + "|"]
    for row in results["table"]:
        cells = [f"{row['m']:g}", f"{row['fixed']:.4g}"]
        cells += [f"{row[k]['ratio']:.3f} ({row[k]['knob']:g})" for k in methods]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_objective_plane(results: dict, path: Path) -> Path:
    """Left: the plane (O_0, O_1), curves for the knob methods, stars for fixed networks.
    Right: the raw terms, content loss against the style loss of O_1's target."""
    plt = pyplot("plotting a study")

    points = results["points"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    panels = (("O_0", "O_1", "O_0 (main objective)", "O_1 (tuned objective)"),
              ("style_1", "content", "style loss vs O_1's target", "content loss"))  # fmt: skip
    for ax, (xk, yk, xlabel, ylabel) in zip(axes, panels):
        for method, style in (("dynamic-net", "o-"), ("pixel-blend", "s--"), ("dni", "^-.")):
            pts = points[method]
            ax.plot([p[xk] for p in pts], [p[yk] for p in pts], style, ms=3, lw=1.4, label=LABELS[method])
        fixed = points["fixed"]
        ax.plot([p[xk] for p in fixed], [p[yk] for p in fixed], "k*", ms=11, label=LABELS["fixed"])
        for p in fixed:
            where = (p[xk], p[yk])
            ax.annotate(f"m={p['knob']:g}", where, textcoords="offset points", xytext=(6, 4), fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{results['recipe']}: objective space on {len(results['photos'])} held-out photos")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_alpha_map(studies: dict[str, dict], path: Path) -> Path:
    """The knob position at which each method best emulates the network trained for O_m,
    against m: a knob that traverses the objective space climbs from 0 to 1 with m.

    ``studies`` maps a label to a study's results; with one study every method is drawn,
    with several only the Dynamic-Net of each (their training modes side by side).
    """
    plt = pyplot("plotting a study")

    fig, ax = plt.subplots(figsize=(5.2, 4.4), layout="constrained")
    ax.plot([0, 1], [0, 1], color="0.7", lw=1, label="knob = m")
    markers = iter("os^vDP")
    for label, results in studies.items():
        methods = METHODS if len(studies) == 1 else ("dynamic-net",)
        for method in methods:
            rows = results["table"]
            name = LABELS[method] if len(studies) == 1 else f"{LABELS[method]}, {label}"
            ax.plot([r["m"] for r in rows], [r[method]["knob"] for r in rows], marker=next(markers), lw=1.4,
                    ms=5, label=name)  # fmt: skip
    ax.set_xlabel("m (the fixed network's objective O_m)")
    ax.set_ylabel("knob position with the best O_m")
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


@torch.no_grad()
def picture_grid(results: dict, photo: Tensor, cell: int = 192) -> Image.Image:
    """One photo: the fixed network per m, and each knob method where it reached its best O_m."""
    nets = results["networks"]
    x = photo.unsqueeze(0)
    knobs = KnobMethods(nets["dynamic-net"], nets["dni"], results["tuned_set"])
    table = results["table"]
    rows = [[fixed_output(nets["fixed"][f"{row['m']:g}"], x) for row in table]]
    row_labels = ["fixed net"]
    for method in ("dynamic-net", "dni", "pixel-blend"):
        rows.append([knobs.output(method, row[method]["knob"], x) for row in table])
        row_labels.append(LABELS[method].split(" (")[0])
    images = [[tensor_to_pil(y[0]) for y in row] for row in rows]
    return contact_sheet(images, [f"m={row['m']:g}" for row in table], cell=cell, row_labels=row_labels)


def write_report(results: dict, out: Path, grid: Image.Image | None = None) -> Path:
    """``report.md`` with the table, ``objective-plane.png`` and ``grid.jpg`` in ``out``."""
    plot_objective_plane(results, out / "objective-plane.png")
    plot_alpha_map({results["recipe"]: results}, out / "alpha-map.png")
    lines = [
        f"# Objective space: {results['recipe']}",
        "",
        f"Held-out photos: {len(results['photos'])} at {results['size']} px (longer side). "
        "Values are the mean O_m = (1 - m) O_0 + m O_1 over them (lower is better); a ratio below 1 "
        "means the method's best knob position beats the network trained for O_m alone. "
        f"The fixed networks trained for {results.get('fixed_steps', '?')} steps each.",
        "",
        markdown_table(results),
        "",
        "![objective plane](objective-plane.png)",
        "",
        "Where on its knob each method comes closest to the network trained for O_m:",
        "",
        "![knob position against m](alpha-map.png)",
    ]
    if grid is not None:
        atomic_save(grid, out / "grid.jpg", quality=90)
        lines += [
            "",
            f"One photo ({results['photos'][0]}): the fixed network for each m, then each method at the knob "
            "position that reached its best O_m.",
            "",
            "![picture grid](grid.jpg)",
        ]
    seconds = results.get("seconds", {})
    spent = ", ".join(f"{k} {v / 60:.1f} min" for k, v in seconds.items())
    lines += ["", f"Machine: {results.get('machine', 'not recorded')}.", f"Time: {spent or 'not recorded'}."]
    text = "\n".join(lines) + "\n"
    return atomic_write(out / "report.md", lambda p: Path(p).write_text(text, encoding="utf-8"))
