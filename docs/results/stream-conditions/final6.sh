#!/usr/bin/env bash
# models/ztf-bts/2.6.0 and 2.7.0 (docs/results/stream-conditions.md, "2.6.0 and 2.7.0: the brightness-shifted
# ensemble"), chosen by select12.sh's rule on the training part and the simulated stream, and read once on the test part.
#   A=alertbroker OUT=/tmp/final6 docs/results/stream-conditions/final6.sh
# The 2.4.0/2.5.0 recipe (final5.sh) with one change, `--augment-shift-mag 0.5`, on both bases:
# 1. per base, seeds 1–15 on the training part (test ids left out), averaged in three groups of five and moved to the
#    natural mix; each group's two bases combined by `models ensemble` (group 1: models/ztf-bts/2.6.0, the measured
#    version); all evaluated on the test part with class-stratified bootstrap intervals, beside final5.sh's 2.4.0 runs;
# 2. the same on all 1,605 objects, seeds 1–5 per base: models/ztf-bts/2.7.0, the streaming default (no held-out
#    figure of its own here, like 2.3.0 and 2.5.0). Made last: the newest package wins.
# 3. both stream-checked (streamcheck.sh) beside 2.4.0 and 2.5.0.
set -euo pipefail
OUT=${OUT:-/tmp/final6}
FINAL5=${FINAL5:-/tmp/final5}
source docs/results/stream-conditions/common.sh
ids=data/splits/ztf-bts-test-ids.txt
recipe+=(--augment-shift-mag 0.5)
declare -A bases=([b1]=models/ztf-sim-base/2.0.0 [b2]=models/ztf-sim-base/2.1.0)
for b in b1 b2; do
  for s in $(seq 1 15); do
    dir="$OUT/$b/members/seed$s"
    [[ -f "$dir/model.json" ]] || $A finetune --from "${bases[$b]}" --data "$BTS" --detections-only --no-meta \
      --test-ids "$ids" --val 0.2 --seed "$s" --surveys ztf --quiet "${recipe[@]}" --name ztf-bts --version "$b-shift-seed$s" --out "$dir"
  done
  for group in "1 5" "6 10" "11 15"; do
    set -- $group
    members=()
    for s in $(seq "$1" "$2"); do members+=("$OUT/$b/members/seed$s"); done
    [[ -f "$OUT/$b/soups/seeds$1-$2/model.json" ]] || $A models average "${members[@]}" --out "$OUT/$b/soups/seeds$1-$2" --name ztf-bts --version "$b-shift-seeds$1-$2"
    [[ -f "$OUT/$b/adjusted/seeds$1-$2/model.json" ]] || $A models priors "$OUT/$b/soups/seeds$1-$2" --priors "$natural" \
      --source "class counts of the BTS training part" --out "$OUT/$b/adjusted/seeds$1-$2" --name ztf-bts --version "$b-shift-seeds$1-$2"
  done
done
ensemble() { [[ $1 == 1 ]] && echo models/ztf-bts/2.6.0 || echo "$OUT/ensembles/seeds$1-$2"; }
for group in "1 5" "6 10" "11 15"; do
  set -- $group
  [[ -f "$(ensemble "$1" "$2")/model.json" ]] || $A models ensemble "$OUT/b1/adjusted/seeds$1-$2" "$OUT/b2/adjusted/seeds$1-$2" \
    --out "$(ensemble "$1" "$2")" --name ztf-bts --version 2.6.0
done
E=(--data "$BTS" --test-ids "$ids" --split test --bootstrap 1000)
evaluate() { [[ -f "$OUT/eval/$2/evaluation.json" ]] || $A evaluate --model "$1" "${E[@]}" --report "$OUT/eval/$2" > /dev/null; }
for group in "1 5" "6 10" "11 15"; do
  set -- $group
  evaluate "$(ensemble "$1" "$2")" "ztf-bts-2.6.0/seeds$1-$2"
done
[[ -f models/ztf-bts/2.6.0/evaluation.json ]] || $A evaluate --model models/ztf-bts/2.6.0 --data "$BTS" --test-ids "$ids" --split test --report models/ztf-bts/2.6.0 > /dev/null
python3 $D/summarise.py --median --per-class --intervals --subset SNIa,SNII,SNIbc \
  --json $D/test-results-2.6.0.json "$OUT/eval/ztf-bts-2.6.0" "$FINAL5/eval/ztf-bts-2.4.0"
# 2. the streaming default
for b in b1 b2; do
  members=()
  for s in 1 2 3 4 5; do
    dir="$OUT/all/$b/members/seed$s"
    [[ -f "$dir/model.json" ]] || $A finetune --from "${bases[$b]}" --data "$BTS" --detections-only --no-meta \
      --test 0 --val 0.2 --seed "$s" --surveys ztf --quiet "${recipe[@]}" --name ztf-bts --version "2.7.0-$b-seed$s" --out "$dir"
    members+=("$dir")
  done
  [[ -f "$OUT/all/$b/average/model.json" ]] || $A models average "${members[@]}" --out "$OUT/all/$b/average" --name ztf-bts --version "2.7.0-$b"
  [[ -f "$OUT/all/$b/adjusted/model.json" ]] || $A models priors "$OUT/all/$b/average" --priors "$natural_all" \
    --source "class counts of the 1,605 shared BTS objects" --out "$OUT/all/$b/adjusted" --name ztf-bts --version "2.7.0-$b"
done
[[ -f models/ztf-bts/2.7.0/model.json ]] || $A models ensemble "$OUT/all/b1/adjusted" "$OUT/all/b2/adjusted" --out models/ztf-bts/2.7.0
# 3.
$D/streamcheck.sh $D/stream-check-final.json models/ztf-bts/2.4.0 models/ztf-bts/2.5.0 models/ztf-bts/2.6.0 models/ztf-bts/2.7.0
