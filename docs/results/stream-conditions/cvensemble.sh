#!/usr/bin/env bash
# Cross-validation of an ensemble (`alertbroker models ensemble`): for every fold, the fold packages
# $OUT/MEMBER/s0-fold{k}/pkg of the given members (made by cvsoup.sh or cvpriors.sh) are combined into one package and
# evaluated on the fold's objects.
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/cvensemble.sh NAME MEMBER MEMBER…
#   writes $OUT/NAME/s0-fold{k}/ (pkg/, evaluation.json); summarise with cvsummary.py.
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv}
BTS=${BTS:-../shared/labelled/ztf-bts}
name=$1
shift
for k in 1 2 3 4; do
  dir="$OUT/$name/s0-fold$k"
  [[ -f "$dir/evaluation.json" ]] && continue
  packages=()
  for m in "$@"; do packages+=("$OUT/$m/s0-fold$k/pkg"); done
  rm -rf "$dir/pkg"
  $A models ensemble "${packages[@]}" --out "$dir/pkg" --name "$name" --version "fold$k" > /dev/null
  $A evaluate --model "$dir/pkg" --data "$BTS" --detections-only --test-ids "data/splits/ztf-bts-cv/fold$k.txt" \
    --split test --report "$dir" > /dev/null
done
