"""The share of generated faces that a GAN study's attribute classifier calls the tuned
attribute, at alpha 0, 0.1, ..., 1: a quick screen of a block before a full study.

    python experiments/attribute_rates.py runs/exp/A/model.safetensors \
        --study runs/study/faces-dark-to-blond --n 300 [--kid recipes/faces-dark-to-blond.toml]

``--study`` is the output folder of ``dynamicnet evaluate gan`` for the same subsets (its
cached classifier is reused). With ``--kid RECIPE`` it also prints KID (raw, as the study
reports it: its VGG16 features) to the held-out main faces at alpha 0 and to the tuned faces at alpha 1. It
is how docs/results/dcgan.md screened block learning rates and generator widths.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from safetensors.torch import load_file

import dynamicnet
from dynamicnet.evaluation.distribution import PooledFeatures, kid
from dynamicnet.perceptual import load_perceptual
from dynamicnet.tasks import load_recipe
from dynamicnet.tasks.gan.attributes import AttributeClassifier, AttributeNet
from dynamicnet.tasks.gan.study import GanStudy


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="GAN model files or shipped names")
    p.add_argument("--study", required=True, help="a 'dynamicnet evaluate gan' output folder")
    p.add_argument("--n", type=int, default=300, help="faces per alpha (default 300)")
    p.add_argument("--kid", metavar="RECIPE", help="also KID against the recipe's held-out faces")
    args = p.parse_args(argv)
    found = sorted(Path(args.study, "cache").glob("classifier-*.safetensors"))
    if not found:
        raise SystemExit(f"{args.study}: no cached classifier (run 'dynamicnet evaluate gan' first)")
    net = AttributeNet()
    net.load_state_dict(load_file(str(found[0])))
    classifier = AttributeClassifier("tuned", net.eval(), 0.0, 0)
    features = real = None
    if args.kid:
        study = GanStudy(load_recipe(args.kid), Path(args.study), progress=False)
        features = PooledFeatures(load_perceptual("auto", seed=0)[0])
        real = {k: features(v) for k, v in study.real_faces().items()}
    for name in args.models:
        model = dynamicnet.load(name)
        with torch.no_grad():
            faces = [model.sample(args.n, alpha=i / 10, seed=1) for i in range(11)]
        line = f"{name}: " + " ".join(f"{classifier.rate(f):.3f}" for f in faces)
        if features is not None:
            k0 = kid(features(faces[0]), real["main"])[0]
            k1 = kid(features(faces[10]), real["tuned"])[0]
            line += f" | KID main@0 {k0:.1f} tuned@1 {k1:.1f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
