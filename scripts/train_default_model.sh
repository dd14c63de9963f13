#!/usr/bin/env bash
# Rebuild the built-in model exactly as shipped: the training set, training,
# export into the package, and the report copied to docs/default-model/.
#   bash scripts/train_default_model.sh [MAX_SECONDS] [extra livegan train args...]
# Needs Debian's fluidsynth and fluid-soundfont-gm for the training set. On a
# GPU machine add `--device cuda` and a larger budget; --resume continues a run.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
max_seconds=${1:-1500}; shift || true
[ -d data/builtin ] || python scripts/make_builtin_set.py data/builtin
livegan train data/builtin --preset wavegan --out runs/default \
  --set max_seconds="$max_seconds" --set steps=100000 --set preview_every=250 --set checkpoint_every=250 "$@"
livegan export runs/default -o livegan/models/default.ts
mkdir -p docs/default-model
cp runs/default/report/{losses,pca,generated,nearest}.png runs/default/metrics.json runs/default/preset.json \
   runs/default/train_time.json docs/default-model/
livegan info livegan/models/default.ts | tee docs/default-model/info.txt
