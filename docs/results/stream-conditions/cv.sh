#!/usr/bin/env bash
# Four-fold cross-validation on the BTS training part (the 1,123 objects outside data/splits/ztf-bts-test-ids.txt),
# used to choose the fine-tuning settings of models/ztf-bts/2.0.0 without touching the test part.
#   usage (from the repository root): docs/results/stream-conditions/cv.sh NAME BASE_PACKAGE [finetune options…]
#   writes $OUT/NAME/fold{1..4}/ (model.json, evaluation.json: the fold's held-out objects); summarise with summarise.py.
# With BASE_PACKAGE "none", NAME is the base model itself evaluated on each fold without fine-tuning.
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv}
BTS=${BTS:-../shared/labelled/ztf-bts}
name=$1
base=$2
shift 2
for k in 1 2 3 4; do
  if [[ "$name" == *zero-shot* ]]; then
    $A evaluate --model "$base" --data "$BTS" --detections-only --test-ids "data/splits/ztf-bts-cv/fold$k.txt" --split test \
      --report "$OUT/$name/fold$k" > /dev/null
  else
    $A finetune --from "$base" --data "$BTS" --detections-only --no-meta \
      --exclude-ids data/splits/ztf-bts-test-ids.txt --test-ids "data/splits/ztf-bts-cv/fold$k.txt" --val 0.2 \
      --quiet "$@" --out "$OUT/$name/fold$k"
  fi
done
