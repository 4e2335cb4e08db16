#!/usr/bin/env bash
# What a held-out set like the maintainers' (1,063 BTS objects) would say about 2.6.0/2.7.0's recipe, estimated from
# out-of-sample predictions of all 1,605 shared BTS objects: the four cross-validation folds of the training part, each
# scored by round 17's ensemble package fitted without it (r19-ensemble-shift-0.5, made by select12.sh under $OUT), and
# the test part scored by models/ztf-bts/2.6.0 (`evaluate --predictions`); pooled.py then draws class-stratified samples
# of 1,063 objects in the BTS mix. Nothing is trained or chosen here.
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/pooled.sh
#   writes $OUT/pooled/{fold1..4,test}.csv and docs/results/stream-conditions/pooled-1063.json
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv}
BTS=${BTS:-../shared/labelled/ztf-bts}
mkdir -p "$OUT/pooled"
for k in 1 2 3 4; do
  $A evaluate --model "$OUT/r19-ensemble-shift-0.5/s0-fold$k/pkg" --data "$BTS" --detections-only \
    --test-ids "data/splits/ztf-bts-cv/fold$k.txt" --split test --predictions "$OUT/pooled/fold$k.csv" > /dev/null
done
$A evaluate --model models/ztf-bts/2.6.0 --data "$BTS" --test-ids data/splits/ztf-bts-test-ids.txt --split test \
  --predictions "$OUT/pooled/test.csv" > /dev/null
python3 docs/results/stream-conditions/pooled.py 1063 2000 1 docs/results/stream-conditions/pooled-1063.json \
  "$OUT"/pooled/fold{1,2,3,4}.csv "$OUT/pooled/test.csv"
