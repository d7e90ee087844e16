"""How far alpha moves a completion model's fill: the quantity the shipped-model check
(tests/models/test_shipped.py, test_fills_move_steadily_...) bounds from below (0.02).

    python experiments/completion_knob.py photo-fill runs/photo-fill/model.safetensors

For each model (shipped name or file) it fills the check's centred hole in its synthetic
image at alpha 0, 1/8, ..., 1 and prints the mean change inside the hole from alpha 0 (in
[0, 1] units; 0.02 is 5/255) and the ratio of the largest to the smallest step.
docs/results/completion.md reports it for the prefilled recipe.
"""

from __future__ import annotations

import argparse

import torch

import dynamicnet
from dynamicnet.data.masks import centre_square


def check_image() -> torch.Tensor:
    """The shipped-model check's image: smooth, with an edge (tests/models/test_shipped.py)."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 96), torch.linspace(0, 1, 128), indexing="ij")
    img = torch.stack([0.5 + 0.4 * torch.sin(6 * xx), 0.3 + 0.5 * yy, 0.6 * (xx * yy > 0.2).float() + 0.2])
    return img.unsqueeze(0)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="completion models: shipped names or .safetensors files")
    args = p.parse_args(argv)
    x, mask = check_image(), centre_square(96, 128, 0.4)
    hole = mask.expand_as(x[0]) > 0.5
    for spec in args.models:
        net = dynamicnet.load(spec)
        with torch.no_grad():
            fills = [net(x, alpha=i / 8, mask=mask)[0][hole] for i in range(9)]
        change = float((fills[-1] - fills[0]).abs().mean())
        steps = [float((b - a).abs().mean()) for a, b in zip(fills, fills[1:])]
        ratio = max(steps) / min(steps)
        print(f"{spec}: alpha 0 to 1 moves the hole by {change:.4f}; largest / smallest step {ratio:.2f}")


if __name__ == "__main__":
    main()
