"""How far alpha moves a completion model's fill: the quantity the shipped-model check
(tests/models/test_shipped.py, test_fills_move_steadily_...) bounds from below (0.02).

    python experiments/completion_knob.py photo-fill runs/photo-fill/model.safetensors
    python experiments/completion_knob.py photo-fill --raw --mix

``--raw`` ignores a shipped file's knob calibration (the blocks at alpha itself); ``--mix``
prints, for a network that starts from two classical fills, the mean PatchMatch weight in
the photo's hole (and its spread over the hole) and the mean colour correction at each alpha.

For each model (shipped name or file) it fills a centred hole at alpha 0, 1/8, ..., 1 and
prints the mean change inside the hole from alpha 0 (in [0, 1] units; 0.02 is 5/255) and the
ratio of the largest to the smallest step, on two images: a smooth synthetic one (an edge,
gradients, no texture) and the astronaut photo bundled with scikit-image, held out of every
recipe, at 192 px with a hole of a quarter of its side. docs/results/completion.md reports it.
"""

from __future__ import annotations

import argparse

import torch

import dynamicnet
from dynamicnet.data.masks import centre_square
from dynamicnet.evaluation.photos import astronaut


def check_image() -> torch.Tensor:
    """The shipped-model check's image: smooth, with an edge (tests/models/test_shipped.py)."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 96), torch.linspace(0, 1, 128), indexing="ij")
    img = torch.stack([0.5 + 0.4 * torch.sin(6 * xx), 0.3 + 0.5 * yy, 0.6 * (xx * yy > 0.2).float() + 0.2])
    return img.unsqueeze(0)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="completion models: shipped names or .safetensors files")
    p.add_argument("--raw", action="store_true", help="run the blocks at alpha itself (no knob calibration)")
    p.add_argument("--mix", action="store_true", help="the fill weights and colour correction along alpha")
    args = p.parse_args(argv)
    images = {"synthetic": (check_image(), centre_square(96, 128, 0.4)), "photo": held_out_photo()}
    for spec in args.models:
        net = dynamicnet.load(spec)
        if args.raw:
            net.config.pop("knob_exponent", None)
        for which, (x, mask) in images.items():
            hole = mask.expand_as(x[0]) > 0.5
            with torch.no_grad():
                fills = [net(x, alpha=i / 8, mask=mask)[0][hole] for i in range(9)]
            change = float((fills[-1] - fills[0]).abs().mean())
            steps = [float((b - a).abs().mean()) for a, b in zip(fills, fills[1:])]
            ratio = max(steps) / max(min(steps), 1e-12)
            away = [float((f - fills[0]).abs().mean()) for f in fills]
            monotone = "monotone" if all(b > a for a, b in zip(away, away[1:])) else "NOT monotone"
            print(
                f"{spec}, {which}: alpha 0 to 1 moves the hole by {change:.4f}; "
                f"largest / smallest step {ratio:.2f}; distance from alpha 0 {monotone}"
            )
        if args.mix:
            mix_along_alpha(net, *images["photo"])


@torch.no_grad()
def mix_along_alpha(net, x: torch.Tensor, mask: torch.Tensor) -> None:
    """The network's weight of the PatchMatch fill and its colour correction in the hole."""
    m = mask.reshape(1, 1, *x.shape[-2:])
    hole = m[0, 0] > 0.5
    inside = torch.cat([*net._starts(x, m), m], dim=1)
    for i in range(9):
        out = net.net(inside, alpha=net.knob(i / 8))
        weight = out[:, 3:].softmax(1)[0, 1][hole]
        correction = float(out[0, :3][:, hole].abs().mean())
        print(
            f"  alpha {i / 8:.3f}: PatchMatch weight {float(weight.mean()):.2f} "
            f"(std {float(weight.std()):.3f}), colour correction {correction:.3f}"
        )


def held_out_photo() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-image's astronaut at 192 px and a centred hole of a quarter of its side."""
    x = torch.nn.functional.interpolate(astronaut(), size=(192, 192), mode="area")
    return x, centre_square(192, 192, 0.25)


if __name__ == "__main__":
    main()
