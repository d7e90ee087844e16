"""The share of generated faces that a GAN study's attribute classifier calls the tuned
attribute, at alpha 0, 0.1, ..., 1: a quick screen of a block before a full study.

    python experiments/attribute_rates.py runs/exp/A/model.safetensors \
        --study runs/study/faces-dark-to-blond --n 300

``--study`` is the output folder of ``dynamicnet evaluate gan`` for the same subsets (its
cached classifier is reused). It is how docs/results/dcgan.md screened block learning rates.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from safetensors.torch import load_file

import dynamicnet
from dynamicnet.evaluation.attributes import AttributeClassifier, AttributeNet


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="GAN model files or shipped names")
    p.add_argument("--study", required=True, help="a 'dynamicnet evaluate gan' output folder")
    p.add_argument("--n", type=int, default=300, help="faces per alpha (default 300)")
    args = p.parse_args(argv)
    found = sorted(Path(args.study, "cache").glob("classifier-*.safetensors"))
    if not found:
        raise SystemExit(f"{args.study}: no cached classifier (run 'dynamicnet evaluate gan' first)")
    net = AttributeNet()
    net.load_state_dict(load_file(str(found[0])))
    classifier = AttributeClassifier("tuned", net.eval(), 0.0, 0)
    for name in args.models:
        model = dynamicnet.load(name)
        with torch.no_grad():
            rates = [classifier.rate(model.sample(args.n, alpha=i / 10, seed=1)) for i in range(11)]
        print(f"{name}: " + " ".join(f"{r:.3f}" for r in rates))


if __name__ == "__main__":
    main()
