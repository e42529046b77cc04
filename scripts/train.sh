#!/usr/bin/env bash
# Train models/traeningsguide.tar.gz (components whose data and config did not change come from Rasa's cache).
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"  # hide TensorFlow start-up chatter
cd "$(dirname "$0")/.."
.venv/bin/python scripts/gen_nlu_from_knowledge.py --check
start=$(date +%s)
set +e
# Trained in build/train and moved into models/ by a rename: a server starting meanwhile never
# reads half a file. (Rasa 3.6 always packs a new model; unchanged components come from its cache
# in .rasa/cache, ~10 s.)
mkdir -p build/train models
.venv/bin/rasa train --fixed-model-name traeningsguide --out build/train 2>&1 \
    | grep --line-buffered -v -e "^To enable the following instructions" -e "tensorflow/" -e "TF-TRT"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "ERROR: rasa train failed (exit $status)" >&2; exit "$status"; }
[ -f build/train/traeningsguide.tar.gz ] || { echo "ERROR: no model was written" >&2; exit 1; }
mv -f build/train/traeningsguide.tar.gz models/traeningsguide.tar.gz
echo "train: done in $(( $(date +%s) - start )) s (models/traeningsguide.tar.gz)"
