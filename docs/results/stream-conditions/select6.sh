#!/usr/bin/env bash
# A measurement, not a choice (docs/results/stream-conditions.md, "How much one base varies"): every round so far
# fine-tuned the same base (models/ztf-sim-base/2.0.0, training seed 1). Here the same simulations (final.sh step 1,
# byte-identical with today's code) train a second base with seed 2, and the 2.2.0 recipe is cross-validated on it
# exactly as r7-sqrt-soup4-priors (select3.sh) was on the first; the difference between the two is the spread that one
# base's training seed alone puts on a candidate's figures. Summary by cvsummary.py into cv6-results.json.
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/select6.sh
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv3}
export A OUT
D=docs/results/stream-conditions
sims="$OUT/sims/ztf"
base="$OUT/ztf-sim-base-seed2"
[[ -f "$sims/ztf_sim_metadata.csv" ]] || $A simulate lightcurves --survey ztf --n 30000 --out "$sims" --seed 1 --bts
[[ -f "$base/model.json" ]] || $A train --data "$sims" --detections-only --no-meta --classes SNIa,SNII,SNIbc,SLSN-I,TDE \
  --epochs 30 --val 0.1 --test 0.1 --seed 2 --step-loss checkpoints --surveys ztf --quiet --out "$base"
recipe=(--train all --lr 3e-4 --step-loss all --select early-auroc --patience 5 --batch 32 --epochs 60 --class-weights sqrt)
natural=SNIa=840,SNII=203,SNIbc=62,SLSN-I=12,TDE=6
$D/cv2.sh r11-base2 "$base" "1 2 3 4" "${recipe[@]}"
$D/cvsoup.sh r11-base2 "1 2 3 4" r11-base2-soup4
$D/cvpriors.sh r11-base2-soup4 "$natural" r11-base2-soup4-priors
python3 $D/cvsummary.py --json $D/cv6-results.json "$OUT/r7-sqrt-soup4-priors" "$OUT/r11-base2" "$OUT/r11-base2-soup4-priors" \
  "$OUT/r10-rise-soup4-priors"
