#!/usr/bin/env bash
# Repeated four-fold cross-validation on the BTS training part (the 1,123 objects outside data/splits/ztf-bts-test-ids.txt),
# used for the second round of choices (docs/results/stream-conditions.md, "Round 2"): every fold is fine-tuned with
# several seeds (each seed draws its own 20% validation part, shuffles and, where used, replay draws and augmentation).
#   usage (from the repository root): docs/results/stream-conditions/cv2.sh NAME BASE_PACKAGE "SEEDS" [finetune options…]
#   writes $OUT/NAME/s{seed}-fold{k}/ (model.json, evaluation.json: the fold's held-out objects); summarise with cvsummary.py.
# With NAME containing "zero-shot", the base itself is evaluated on each fold (no seeds). "{k}" in an option is replaced
# by the fold's number (e.g. a per-fold teacher: --distill-from "$OUT/teacher/s0-fold{k}/pkg"). NOMETA= (empty) trains
# with the metadata (a base with a metadata branch); by default --no-meta. VAL: the validation fraction (default 0.2).
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv}
BTS=${BTS:-../shared/labelled/ztf-bts}
NOMETA=${NOMETA---no-meta}
VAL=${VAL:-0.2}
name=$1
base=$2
seeds=$3
shift 3
for k in 1 2 3 4; do
  if [[ "$name" == *zero-shot* ]]; then
    [[ -f "$OUT/$name/s0-fold$k/evaluation.json" ]] || $A evaluate --model "$base" --data "$BTS" --detections-only \
      --test-ids "data/splits/ztf-bts-cv/fold$k.txt" --split test --report "$OUT/$name/s0-fold$k" > /dev/null
    continue
  fi
  for s in $seeds; do
    dir="$OUT/$name/s$s-fold$k"
    mkdir -p "$OUT/$name"
    [[ -f "$dir/evaluation.json" ]] && continue
    $A finetune --from "$base" --data "$BTS" --detections-only $NOMETA \
      --exclude-ids data/splits/ztf-bts-test-ids.txt --test-ids "data/splits/ztf-bts-cv/fold$k.txt" --val "$VAL" \
      --quiet --seed "$s" "${@//\{k\}/$k}" --out "$dir" > "$dir.log" 2>&1 || { echo "failed: $dir (see $dir.log)" >&2; exit 1; }
  done
done
