#!/usr/bin/env bash
# Cross-validation of a weight average ("soup", `alertbroker models average`) of a candidate's seeds: for every fold,
# the runs $OUT/NAME/s{seed}-fold{k} made by cv2.sh are averaged into one package and evaluated on the fold's objects.
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/cvsoup.sh NAME "SEEDS" SOUP_NAME
#   writes $OUT/SOUP_NAME/s0-fold{k}/ (pkg/, evaluation.json); summarise with cvsummary.py beside $OUT/NAME.
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv}
BTS=${BTS:-../shared/labelled/ztf-bts}
name=$1
seeds=$2
soup=$3
for k in 1 2 3 4; do
  dir="$OUT/$soup/s0-fold$k"
  [[ -f "$dir/evaluation.json" ]] && continue
  members=()
  for s in $seeds; do members+=("$OUT/$name/s$s-fold$k"); done
  rm -rf "$dir/pkg"
  $A models average "${members[@]}" --out "$dir/pkg" --name "$soup" --version "fold$k" > /dev/null
  $A evaluate --model "$dir/pkg" --data "$BTS" --detections-only --test-ids "data/splits/ztf-bts-cv/fold$k.txt" \
    --split test --report "$dir" > /dev/null
done
