#!/usr/bin/env bash
# Round 19 of the choices (docs/results/stream-conditions.md, "No validation hold-out"): every fine-tuning run so far
# kept 20% of its training objects aside to pick its epoch (`--val 0.2 --select early-auroc`), so each network learns
# from 80% of them; the learning curve (learning-curve.md) says more objects still help at ten days. The candidate
# trains on all of them for a fixed number of epochs, 12 — the median best epoch of round 18's 32 control runs
# (select13.sh: 11.5, rounded up), read before any of this script's runs — with nothing else changed, and is averaged,
# moved to the natural mix and combined exactly as the control.
#   usage (from the repository root, after select13.sh under the same OUT):
#   A=alertbroker OUT=/tmp/cv20 docs/results/stream-conditions/select14.sh
#   writes $OUT/r21-*/, cv15-results.json and stream-check-r21.json.
# Rule, written before any of this script's runs: r21-ensemble-val0 replaces the recipe if (a) on the BTS folds its
# 10-day figure and its mean of the nine each exceed both of round 18's controls (seeds 1–4: 0.848 and 0.8235; seeds
# 5–8: 0.851 and 0.8235) by at least 0.003 (the two controls' spread at ten days), and (b) on the simulated stream its
# whole-curve macro AUROC, mean over folds, is at least the control's − 0.005.
set -euo pipefail
source docs/results/stream-conditions/common.sh
val0=(--train all --lr 3e-4 --step-loss all --batch 32 --class-weights sqrt --augment-shift-mag 0.5 \
  --epochs 12 --patience 0)   # with VAL=0: cv2.sh passes --val
declare -A bases=([val0]=models/ztf-sim-base/2.0.0 [base2-val0]=models/ztf-sim-base/2.1.0)
for arm in val0 base2-val0; do
  VAL=0 $D/cv2.sh "r21-$arm" "${bases[$arm]}" "1 2 3 4" "${val0[@]}"
  $D/cvsoup.sh "r21-$arm" "1 2 3 4" "r21-$arm-soup4"
  $D/cvpriors.sh "r21-$arm-soup4" "$natural" "r21-$arm-soup4-priors"
done
$D/cvensemble.sh r21-ensemble-val0 r21-val0-soup4-priors r21-base2-val0-soup4-priors
python3 $D/cvsummary.py --json $D/cv15-results.json "$OUT/r20-ensemble-control" "$OUT/r20-ensemble-control-seeds5-8" \
  "$OUT/r21-ensemble-val0" "$OUT/r21-val0-soup4-priors" "$OUT/r21-base2-val0-soup4-priors"
$D/streamcheck.sh $D/stream-check-r21.json "$OUT/r20-ensemble-control" "$OUT/r21-ensemble-val0"
