#!/usr/bin/env bash
# Cross-validation of a class-prior adjustment (`alertbroker models priors`): every fold's package of a candidate
# ($OUT/NAME/s{seed}-fold{k}/pkg for an average made by cvsoup.sh, else $OUT/NAME/s{seed}-fold{k}) is moved to PRIORS
# and evaluated on the fold's objects.
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/cvpriors.sh NAME PRIORS NEW_NAME
#   PRIORS: CLASS=VALUE,… e.g. the class counts of the BTS training part: SNIa=840,SNII=203,SNIbc=62,SLSN-I=12,TDE=6
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv}
BTS=${BTS:-../shared/labelled/ztf-bts}
name=$1
priors=$2
new=$3
for run in "$OUT/$name"/s*-fold*/; do
  run=${run%/}
  base=$(basename "$run")
  k=${base##*fold}
  src=$run; [[ -f "$run/pkg/model.json" ]] && src=$run/pkg
  dir="$OUT/$new/$base"
  [[ -f "$dir/evaluation.json" ]] && continue
  rm -rf "$dir/pkg"
  $A models priors "$src" --priors "$priors" --source "BTS training part class counts" --out "$dir/pkg" --name "$new" --version "fold$k" > /dev/null
  $A evaluate --model "$dir/pkg" --data "$BTS" --detections-only --test-ids "data/splits/ztf-bts-cv/fold$k.txt" \
    --split test --report "$dir" > /dev/null
done
