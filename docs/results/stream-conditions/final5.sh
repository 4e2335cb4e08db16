#!/usr/bin/env bash
# models/ztf-sim-base/2.1.0, models/ztf-bts/2.4.0 and 2.5.0 (docs/results/stream-conditions.md, "2.4.0 and 2.5.0: an
# ensemble of two bases"), chosen by select7.sh's rule on the training part only, and read once on the test part.
#   A=alertbroker OUT=/tmp/final5 FINAL3=/tmp/final3 docs/results/stream-conditions/final5.sh
# FINAL3 must hold final3.sh's outputs (its base-1 packages seeds 6–10 and 11–15, for the spread over three ensembles).
# 1. the second base: the simulations of models/ztf-sim-base/2.0.0 (final.sh step 1), training seed 2;
# 2. the 2.2.0 recipe fine-tuned from it on the training part (test ids left out), seeds 1–15, averaged in three groups
#    of five and moved to the natural mix, as final3.sh does from the first base;
# 3. each group combined with its first-base counterpart by `models ensemble` (group 1 with models/ztf-bts/2.2.0: that
#    is models/ztf-bts/2.4.0) and all of them evaluated on the test part, with class-stratified bootstrap intervals;
# 4. the same recipe on all 1,605 objects (as final4.sh), combined with models/ztf-bts/2.3.0: models/ztf-bts/2.5.0,
#    the streaming default (no held-out figure of its own here, like 2.3.0). Made last: the newest package wins.
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/final5}
FINAL3=${FINAL3:-/tmp/final3}
BTS=${BTS:-../shared/labelled/ztf-bts}
SIMS=${SIMS:-$OUT/sims/ztf}
ids=data/splits/ztf-bts-test-ids.txt
recipe=(--train all --lr 3e-4 --batch 32 --epochs 60 --patience 5 --step-loss all --select early-auroc --class-weights sqrt)
natural=SNIa=840,SNII=203,SNIbc=62,SLSN-I=12,TDE=6
natural_all=SNIa=1200,SNII=290,SNIbc=89,SLSN-I=17,TDE=9
base=models/ztf-sim-base/2.1.0
mkdir -p "$OUT"
[[ -f "$SIMS/ztf_sim_metadata.csv" ]] || $A simulate lightcurves --survey ztf --n 30000 --out "$SIMS" --seed 1 --bts
[[ -f "$base/model.json" ]] || $A train --data "$SIMS" --detections-only --no-meta --classes SNIa,SNII,SNIbc,SLSN-I,TDE \
  --epochs 30 --val 0.1 --test 0.1 --seed 2 --step-loss checkpoints --surveys ztf --quiet --out "$base"
for s in $(seq 1 15); do
  dir="$OUT/members/seed$s"
  [[ -f "$dir/model.json" ]] || $A finetune --from "$base" --data "$BTS" --detections-only --no-meta \
    --test-ids "$ids" --val 0.2 --seed "$s" --surveys ztf --quiet "${recipe[@]}" --name ztf-bts --version "base2-seed$s" --out "$dir"
done
first() { [[ $1 == 1 ]] && echo models/ztf-bts/2.2.0 || echo "$FINAL3/adjusted/seeds$1-$2"; }
ensemble() { [[ $1 == 1 ]] && echo models/ztf-bts/2.4.0 || echo "$OUT/ensembles/seeds$1-$2"; }
for group in "1 5" "6 10" "11 15"; do
  set -- $group
  members=()
  for s in $(seq "$1" "$2"); do members+=("$OUT/members/seed$s"); done
  [[ -f "$OUT/soups/seeds$1-$2/model.json" ]] || $A models average "${members[@]}" --out "$OUT/soups/seeds$1-$2" --name ztf-bts --version "base2-seeds$1-$2"
  [[ -f "$OUT/adjusted/seeds$1-$2/model.json" ]] || $A models priors "$OUT/soups/seeds$1-$2" --priors "$natural" \
    --source "class counts of the BTS training part" --out "$OUT/adjusted/seeds$1-$2" --name ztf-bts --version "base2-seeds$1-$2"
  [[ -f "$(ensemble "$1" "$2")/model.json" ]] || $A models ensemble "$(first "$1" "$2")" "$OUT/adjusted/seeds$1-$2" \
    --out "$(ensemble "$1" "$2")" --name ztf-bts --version 2.4.0
done
E=(--data "$BTS" --test-ids "$ids" --split test --bootstrap 1000)
evaluate() { [[ -f "$OUT/eval/$2/evaluation.json" ]] || $A evaluate --model "$1" "${E[@]}" --report "$OUT/eval/$2" > /dev/null; }
for group in "1 5" "6 10" "11 15"; do
  set -- $group
  evaluate "$(ensemble "$1" "$2")" "ztf-bts-2.4.0/seeds$1-$2"
  evaluate "$OUT/adjusted/seeds$1-$2" "second-base-alone/seeds$1-$2"
done
[[ -f models/ztf-bts/2.4.0/evaluation.json ]] || $A evaluate --model models/ztf-bts/2.4.0 --data "$BTS" --test-ids "$ids" --split test --report models/ztf-bts/2.4.0 > /dev/null
python3 docs/results/stream-conditions/summarise.py --median --per-class --intervals --subset SNIa,SNII,SNIbc \
  --json docs/results/stream-conditions/test-results-2.4.0.json \
  "$OUT/eval/ztf-bts-2.4.0" "$OUT/eval/second-base-alone" "$FINAL3/eval/ztf-bts-2.2.0"
# 4. the streaming default
members=()
for s in 1 2 3 4 5; do
  dir="$OUT/all/members/seed$s"
  [[ -f "$dir/model.json" ]] || $A finetune --from "$base" --data "$BTS" --detections-only --no-meta \
    --test 0 --val 0.2 --seed "$s" --surveys ztf --quiet "${recipe[@]}" --name ztf-bts --version "2.5.0-base2-seed$s" --out "$dir"
  members+=("$dir")
done
[[ -f "$OUT/all/average/model.json" ]] || $A models average "${members[@]}" --out "$OUT/all/average" --name ztf-bts --version 2.5.0-base2
[[ -f "$OUT/all/adjusted/model.json" ]] || $A models priors "$OUT/all/average" --priors "$natural_all" \
  --source "class counts of the 1,605 shared BTS objects" --out "$OUT/all/adjusted" --name ztf-bts --version 2.5.0-base2
[[ -f models/ztf-bts/2.5.0/model.json ]] || $A models ensemble models/ztf-bts/2.3.0 "$OUT/all/adjusted" --out models/ztf-bts/2.5.0
