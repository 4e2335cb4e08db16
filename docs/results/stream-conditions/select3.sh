#!/usr/bin/env bash
# The third round of choices (docs/results/stream-conditions.md, "2.2.0"): repeated four-fold cross-validation on the
# BTS training part only, as select2.sh, all runs under $OUT; summary by cvsummary.py into cv3-results.json.
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/select3.sh
# r4-sqrt      the 2.1.0 recipe with four seeds per fold (the reference);
# r6-…-soup4   the weight average of those four seeds per fold (`models average`, cvsoup.sh);
# r7-…-priors  the same moved to the training part's natural class mix (`models priors`, cvpriors.sh), for the single
#              seeds and for the average;
# r8-b100k-…   the same recipe, average and priors on another base: 100,000 simulations instead of 30,000 (else as
#              ztf-sim-base 2.0.0; final.sh), to see whether more simulations carry over to real objects.
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv3}
export A OUT
D=docs/results/stream-conditions
recipe=(--train all --lr 3e-4 --step-loss all --select early-auroc --patience 5 --batch 32 --epochs 60 --class-weights sqrt)
natural=SNIa=840,SNII=203,SNIbc=62,SLSN-I=12,TDE=6
$D/cv2.sh r4-sqrt models/ztf-sim-base/2.0.0 "1 2 3 4" "${recipe[@]}"
$D/cvsoup.sh r4-sqrt "1 2 3 4" r6-sqrt-soup4
$D/cvpriors.sh r4-sqrt "$natural" r7-sqrt-priors
$D/cvpriors.sh r6-sqrt-soup4 "$natural" r7-sqrt-soup4-priors
sims=$OUT/sims/ztf100k
base=$OUT/bases/b100k/ztf-sim-base/2.0.0-100k
[[ -f "$sims/ztf_sim_metadata.csv" ]] || $A simulate lightcurves --survey ztf --n 100000 --out "$sims" --seed 1 --bts
[[ -f "$base/model.json" ]] || $A train --data "$sims" --detections-only --no-meta --classes SNIa,SNII,SNIbc,SLSN-I,TDE --epochs 30 \
  --val 0.1 --test 0.1 --seed 1 --step-loss checkpoints --surveys ztf --quiet --out "$base"
$D/cv2.sh r8-b100k-sqrt "$base" "1 2 3 4" "${recipe[@]}"
$D/cvsoup.sh r8-b100k-sqrt "1 2 3 4" r8-b100k-soup4
$D/cvpriors.sh r8-b100k-soup4 "$natural" r8-b100k-soup4-priors
python3 $D/cvsummary.py --json $D/cv3-results.json "$OUT/r4-sqrt" "$OUT/r7-sqrt-priors" "$OUT/r6-sqrt-soup4" "$OUT/r7-sqrt-soup4-priors" \
  "$OUT/r8-b100k-sqrt" "$OUT/r8-b100k-soup4" "$OUT/r8-b100k-soup4-priors"
