#!/usr/bin/env bash
# The shipped models and the test figures of docs/results/stream-conditions.md (run from the repository root).
#   A=alertbroker OUT=/tmp/final docs/results/stream-conditions/final.sh
# 1. simulations from the tuned simulator, 2. the base (writes models/ztf-sim-base/2.0.0), 3. five fine-tuning seeds on
# the BTS training part with the settings chosen by cross-validation (seed 1 is models/ztf-bts/2.0.0, fixed before any
# test figure was seen), 4. all of them and the old ztf-bts 1.0.0 (with and without metadata) evaluated on the test
# part, 5. the tables.
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/final}
BTS=${BTS:-../shared/labelled/ztf-bts}
SIMS=${SIMS:-$OUT/sims/ztf}
ids=data/splits/ztf-bts-test-ids.txt
mkdir -p "$OUT"
[[ -f "$SIMS/ztf_sim_metadata.csv" ]] || $A simulate lightcurves --survey ztf --n 30000 --out "$SIMS" --seed 1 --bts
[[ -f models/ztf-sim-base/2.0.0/model.json ]] || $A train --data "$SIMS" --detections-only --no-meta --classes SNIa,SNII,SNIbc,SLSN-I,TDE \
  --epochs 30 --val 0.1 --test 0.1 --seed 1 --step-loss checkpoints --surveys ztf --quiet --out models/ztf-sim-base/2.0.0
recipe=(--train all --lr 3e-4 --batch 32 --epochs 60 --patience 5 --step-loss all --select early-auroc)
for s in 1 2 3 4 5; do
  dir="$OUT/ztf-bts-2.0.0/seed$s"
  [[ $s == 1 ]] && dir=models/ztf-bts/2.0.0
  [[ -f "$dir/model.json" ]] || $A finetune --from models/ztf-sim-base/2.0.0 --data "$BTS" --detections-only --no-meta \
    --test-ids "$ids" --val 0.2 --seed "$s" --surveys ztf --quiet "${recipe[@]}" --out "$dir"
done
# 4. every model evaluated the same way on the test part, with class-stratified bootstrap intervals
E=(--data "$BTS" --test-ids "$ids" --split test --bootstrap 1000)
for s in 1 2 3 4 5; do
  dir="$OUT/ztf-bts-2.0.0/seed$s"
  [[ $s == 1 ]] && dir=models/ztf-bts/2.0.0
  $A evaluate --model "$dir" "${E[@]}" --report "$OUT/eval/ztf-bts-2.0.0/seed$s" > /dev/null
done
$A evaluate --model models/ztf-sim-base/2.0.0 "${E[@]}" --report "$OUT/eval/ztf-sim-base-2.0.0/base" > /dev/null
$A evaluate --model models/ztf-bts/1.0.0 "${E[@]}" --report "$OUT/eval/ztf-bts-1.0.0-with-metadata/model" > /dev/null
$A evaluate --model models/ztf-bts/1.0.0 "${E[@]}" --no-meta --report "$OUT/eval/ztf-bts-1.0.0-without-metadata/model" > /dev/null
# 5. the tables of docs/results/stream-conditions.md
python3 docs/results/stream-conditions/summarise.py --median --per-class --intervals --subset SNIa,SNII,SNIbc --json docs/results/stream-conditions/test-results.json \
  "$OUT/eval/ztf-bts-2.0.0" "$OUT/eval/ztf-bts-1.0.0-with-metadata" "$OUT/eval/ztf-bts-1.0.0-without-metadata" "$OUT/eval/ztf-sim-base-2.0.0"
