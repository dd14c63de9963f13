#!/usr/bin/env bash
# Rebuild the built-in bass model (`builtin:bass`) exactly as shipped: the training set, training,
# export into the package, and the report copied to docs/bass-model/.
#   bash scripts/train_bass_model.sh [MAX_SECONDS] [extra livegan train args...]
# Needs Debian's fluidsynth, fluid-soundfont-gm and sonic-pi-samples for the training set
# (96 of the project's own bass riffs and the CC0 `bass_*` files of sonic-pi-samples).
# MAX_SECONDS is the whole run's training time; with --resume a run continues up to it (how the
# shipped model was made, in two sittings: docs/bass-model/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
max_seconds=${1:-1500}; shift || true  # the shipped model: 1500 s (docs/bass-model/README.md)
[ -d data/bass/sonic-pi ] || python scripts/make_builtin_set.py data/bass --bass 96 --drums 0 --both 0 --sonic-pi bass_
livegan train data/bass --preset spectral --out runs/bass \
  --set max_seconds="$max_seconds" --set steps=1000000 "$@"
livegan export runs/bass -o livegan/models/bass.ts --force  # replaces the shipped model, on purpose
mkdir -p docs/bass-model
cp runs/bass/report/{losses,pca,generated,nearest,spectrograms}.png runs/bass/metrics.json \
   runs/bass/preset.json runs/bass/train_time.json data/bass/SOURCES.md docs/bass-model/
livegan info livegan/models/bass.ts | tee docs/bass-model/info.txt
