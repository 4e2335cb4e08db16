#!/usr/bin/env bash
# The 2.1.0 candidate and its test figures (docs/results/stream-conditions.md, "2.1.0: round 2 of the choices").
#   A=alertbroker OUT=/tmp/final2 docs/results/stream-conditions/final2.sh
# Same base (models/ztf-sim-base/2.0.0), same training part, same seeds and same evaluation as final.sh; only the
# fine-tuning recipe differs: the one picked by select2.sh (cross-validation on the training part). Seed 1, fixed in
# advance, is written to models/ztf-bts/2.1.0 (it is kept there only if the test figures support shipping it).
# SEEDS (default "1 2 3 4 5") are the fine-tuning seeds.
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/final2}
BTS=${BTS:-../shared/labelled/ztf-bts}
SEEDS=${SEEDS:-1 2 3 4 5}
ids=data/splits/ztf-bts-test-ids.txt
recipe=(--train all --lr 3e-4 --batch 32 --epochs 60 --patience 5 --step-loss all --select early-auroc --class-weights sqrt)
mkdir -p "$OUT"
for s in $SEEDS; do
  dir="$OUT/ztf-bts-2.1.0/seed$s"
  [[ $s == 1 ]] && dir=models/ztf-bts/2.1.0
  [[ -f "$dir/model.json" ]] || $A finetune --from models/ztf-sim-base/2.0.0 --data "$BTS" --detections-only --no-meta \
    --test-ids "$ids" --val 0.2 --seed "$s" --surveys ztf --quiet "${recipe[@]}" --out "$dir"
done
E=(--data "$BTS" --test-ids "$ids" --split test --bootstrap 1000)
for s in $SEEDS; do
  dir="$OUT/ztf-bts-2.1.0/seed$s"
  [[ $s == 1 ]] && dir=models/ztf-bts/2.1.0
  [[ -f "$OUT/eval/ztf-bts-2.1.0/seed$s/evaluation.json" ]] || $A evaluate --model "$dir" "${E[@]}" --report "$OUT/eval/ztf-bts-2.1.0/seed$s" > /dev/null
done
python3 docs/results/stream-conditions/summarise.py --median --per-class --intervals --subset SNIa,SNII,SNIbc \
  --json docs/results/stream-conditions/test-results-2.1.0.json "$OUT/eval/ztf-bts-2.1.0"
