#!/usr/bin/env bash
# Rebuild the built-in model exactly as shipped: the training set, training,
# export into the package, and the report copied to docs/default-model/.
#   bash scripts/train_default_model.sh [MAX_SECONDS] [extra livegan train args...]
# Needs Debian's fluidsynth, fluid-soundfont-gm and sonic-pi-samples for the
# training set. On a GPU machine add `--device cuda` and a larger budget, e.g.
# `--set model_dim=128 --set batch_size=16`; --resume continues a run.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
max_seconds=${1:-1200}; shift || true
[ -d data/builtin/sonic-pi ] || python scripts/make_builtin_set.py data/builtin --sonic-pi
livegan train data/builtin --preset spectral --out runs/default \
  --set max_seconds="$max_seconds" --set steps=1000000 "$@"
livegan export runs/default -o livegan/models/default.ts --force  # replaces the shipped model, on purpose
mkdir -p docs/default-model
cp runs/default/report/{losses,pca,generated,nearest,spectrograms}.png runs/default/metrics.json \
   runs/default/preset.json runs/default/train_time.json data/builtin/SOURCES.md docs/default-model/
livegan info livegan/models/default.ts | tee docs/default-model/info.txt
