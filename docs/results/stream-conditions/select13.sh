#!/usr/bin/env bash
# Round 18 of the choices (docs/results/stream-conditions.md, "Long light curves"): training and `evaluate` keep the
# first --max-steps (100) observations of each light curve, while the worker feeds every observation it holds (up to
# State:MaxObservationsPerObject, 4,000), so an object observed more than 100 times is scored past the longest sequence
# its network was trained on (maxsteps.sh: the true class's probability falls on 16 of 20 such test objects). The
# candidate trains on what the worker feeds, `--max-steps 4000`, with the 2.6.0/2.7.0 recipe otherwise unchanged; the
# control is that recipe, both rerun here with the same seeds (1–4 per base and fold) under today's reader.
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv20 docs/results/stream-conditions/select13.sh
#   writes $OUT/r20-*/, cv14-results.json (BTS folds, as every earlier round: first 100 observations), long-curves.json
#   (the folds scored as the worker scores, every observation; longcurves.py) and stream-check-r20.json.
# Rule, written before any of this script's runs: r20-ensemble-ms4000 replaces the recipe if, against r20-ensemble-control,
#   (a) on the BTS folds (first 100 observations, as every earlier round) its 10-day figure and its mean of the nine are
#       each at least the control's − 0.005 (round 12's "level within what one base's seed moves");
#   (b) scored as the worker scores (every observation), its whole-light-curve macro AUROC (mean over folds) is at least
#       the control's − 0.005, and on the training part's objects with more than 100 observations (each scored by the
#       fold package that did not see it) the true class's mean probability after the last observation is higher and
#       the top class is right at least as often;
#   (c) on the simulated stream (streamcheck.sh) its whole-curve macro AUROC, mean over folds, is at least the
#       control's − 0.005.
set -euo pipefail
source docs/results/stream-conditions/common.sh
shift_recipe=("${recipe[@]}" --augment-shift-mag 0.5)
declare -A bases=([control]=models/ztf-sim-base/2.0.0 [base2-control]=models/ztf-sim-base/2.1.0 \
  [ms4000]=models/ztf-sim-base/2.0.0 [base2-ms4000]=models/ztf-sim-base/2.1.0)
for arm in control base2-control ms4000 base2-ms4000; do
  extra=(); [[ $arm == *ms4000 ]] && extra=(--max-steps 4000)
  $D/cv2.sh "r20-$arm" "${bases[$arm]}" "1 2 3 4" "${shift_recipe[@]}" "${extra[@]}"
  $D/cvsoup.sh "r20-$arm" "1 2 3 4" "r20-$arm-soup4"
  $D/cvpriors.sh "r20-$arm-soup4" "$natural" "r20-$arm-soup4-priors"
done
$D/cvensemble.sh r20-ensemble-control r20-control-soup4-priors r20-base2-control-soup4-priors
$D/cvensemble.sh r20-ensemble-ms4000 r20-ms4000-soup4-priors r20-base2-ms4000-soup4-priors
python3 $D/cvsummary.py --json $D/cv14-results.json "$OUT/r20-ensemble-control" "$OUT/r20-ensemble-ms4000" \
  "$OUT/r20-control-soup4-priors" "$OUT/r20-ms4000-soup4-priors" "$OUT/r20-base2-control-soup4-priors" "$OUT/r20-base2-ms4000-soup4-priors"
# (b): every fold package of both ensembles as the worker scores it
every_observation() {
  for c in "$@"; do
    for k in 1 2 3 4; do
      dir="$OUT/$c/s0-fold$k"
      [[ -f "$dir/every/evaluation.json" ]] || $A evaluate --model "$dir/pkg" --data "$BTS" --detections-only \
        --test-ids "data/splits/ztf-bts-cv/fold$k.txt" --split test --max-steps 4000 --report "$dir/every" \
        --predictions "$dir/every.csv" > /dev/null
    done
  done
}
every_observation r20-ensemble-control r20-ensemble-ms4000
python3 $D/longcurves.py "$OUT" $D/long-curves.json r20-ensemble-control r20-ensemble-ms4000
# (c)
$D/streamcheck.sh $D/stream-check-r20.json "$OUT/r20-ensemble-control" "$OUT/r20-ensemble-ms4000"
# After the rule was read (every clause met, (b)'s gain small): a second control, seeds 5–8, the same recipe — what the
# seeds alone move in (b)'s figures, to tell whether the candidate's gain there exceeds them.
for arm in control base2-control; do
  $D/cv2.sh "r20-$arm-seeds5-8" "${bases[$arm]}" "5 6 7 8" "${shift_recipe[@]}"
  $D/cvsoup.sh "r20-$arm-seeds5-8" "5 6 7 8" "r20-$arm-seeds5-8-soup4"
  $D/cvpriors.sh "r20-$arm-seeds5-8-soup4" "$natural" "r20-$arm-seeds5-8-soup4-priors"
done
$D/cvensemble.sh r20-ensemble-control-seeds5-8 r20-control-seeds5-8-soup4-priors r20-base2-control-seeds5-8-soup4-priors
every_observation r20-ensemble-control-seeds5-8
python3 $D/cvsummary.py --json $D/cv14-results.json "$OUT/r20-ensemble-control" "$OUT/r20-ensemble-ms4000" \
  "$OUT/r20-control-soup4-priors" "$OUT/r20-ms4000-soup4-priors" "$OUT/r20-base2-control-soup4-priors" \
  "$OUT/r20-base2-ms4000-soup4-priors" "$OUT/r20-ensemble-control-seeds5-8"
python3 $D/longcurves.py "$OUT" $D/long-curves.json r20-ensemble-control r20-ensemble-ms4000 r20-ensemble-control-seeds5-8
# Also afterwards: both control seed sets in one four-network ensemble (twice 2.7.0's scoring cost).
$D/cvensemble.sh r20-ensemble4-control r20-control-soup4-priors r20-base2-control-soup4-priors \
  r20-control-seeds5-8-soup4-priors r20-base2-control-seeds5-8-soup4-priors
python3 $D/cvsummary.py --json $D/cv14-results.json "$OUT/r20-ensemble-control" "$OUT/r20-ensemble-ms4000" \
  "$OUT/r20-control-soup4-priors" "$OUT/r20-ms4000-soup4-priors" "$OUT/r20-base2-control-soup4-priors" \
  "$OUT/r20-base2-ms4000-soup4-priors" "$OUT/r20-ensemble-control-seeds5-8" "$OUT/r20-ensemble4-control"
