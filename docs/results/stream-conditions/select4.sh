#!/usr/bin/env bash
# Round 9 of the choices (docs/results/stream-conditions.md, "Tried and not adopted: a brightness shift"): four-fold
# cross-validation on the BTS training part only, as select3.sh, all runs under $OUT (which must hold select3.sh's
# r7-sqrt-soup4-priors, the reference); summary by cvsummary.py into cv4-results.json.
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/select4.sh
# Planned before any of its runs. The 2.2.0 recipe (four seeds per fold, averaged, moved to the natural mix) with one
# change: every training light curve made Δm fainter as a whole each epoch (--augment-shift-mag s: flux and error
# × 10^(−0.4Δm), Δm uniform in [−s, s]), at s = 0.5 and 1 mag. Why: BTS selects by peak brightness (< 18.5–19 mag), so a
# network fitted on it can learn "this class is this bright"; the same object nearer or farther is not another class.
# The idea came from reading the class and peak magnitude of the test part's three TDEs (two of them at 15.3 and
# 15.8 mag, against 17.8–18.9 for the six training TDEs): the choice is made here on the training part only, but the
# idea is not blind to the test part, and the write-up says so.
# Rule, fixed before the runs: the candidate with the higher mean of the nine (averaged and moved, over the four folds)
# is adopted if that figure is above r7-sqrt-soup4-priors' (0.826) and its 10-day figure is not below r7's (0.846) by
# more than 0.005; only then would it be made and read on the test part (as final3.sh). Outcome: neither was (0.823 and
# 0.819); the test part was not read.
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv3}
export A OUT
D=docs/results/stream-conditions
recipe=(--train all --lr 3e-4 --step-loss all --select early-auroc --patience 5 --batch 32 --epochs 60 --class-weights sqrt)
natural=SNIa=840,SNII=203,SNIbc=62,SLSN-I=12,TDE=6
for s in 0.5 1; do
  $D/cv2.sh "r9-shift-$s" models/ztf-sim-base/2.0.0 "1 2 3 4" "${recipe[@]}" --augment-shift-mag "$s"
  $D/cvsoup.sh "r9-shift-$s" "1 2 3 4" "r9-shift-$s-soup4"
  $D/cvpriors.sh "r9-shift-$s-soup4" "$natural" "r9-shift-$s-soup4-priors"
done
python3 $D/cvsummary.py --json $D/cv4-results.json "$OUT/r7-sqrt-soup4-priors" "$OUT/r9-shift-0.5" "$OUT/r9-shift-0.5-soup4-priors" \
  "$OUT/r9-shift-1" "$OUT/r9-shift-1-soup4-priors"
