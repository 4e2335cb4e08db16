#!/usr/bin/env bash
# Round 17 of the choices (docs/results/stream-conditions.md, "The stream check"): every choice so far was judged on BTS
# objects, which BTS selected by brightness (peak ≤ 18.5 mag), so a network fitted on them may learn that faint means
# far means superluminous — true within BTS, false in a real alert stream, where most transients are fainter than any
# BTS object. streamcheck.sh scores each cross-validation fold package on a simulated ZTF alert stream (every detectable
# transient, natural mix, partial light curves, truth known). Here: the brightness shift of round 9 (±0.5 mag, which
# cross-validation found level on BTS, not better) made on the second base too, combined into an ensemble as round 12's,
# and every earlier candidate of that kind stream-checked. Summaries: cv13-results.json (BTS), stream-check.json.
#   usage (from the repository root, with select3/4/6/7.sh's runs under the same OUT):
#   A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/select12.sh
# Rule, written after streamcheck.sh had been run on round 9's first-base packages (r7, r9-shift-0.5, r9-shift-1) and
# before any of this script's runs: r19-ensemble-shift-0.5 replaces the 2.4.0/2.5.0 recipe (and is read on the test
# part) if (a) on BTS its 10-day figure is at least 0.852 − 0.005 and its mean of the nine at least 0.827 − 0.005
# (round 12's ensemble: level within what one base's seed moves), and (b) on the simulated stream its whole-curve macro
# AUROC is higher and its share of objects named SLSN-I lower than r12-ensemble2's in each of the four folds.
set -euo pipefail
source docs/results/stream-conditions/common.sh
$D/cv2.sh r19-base2-shift-0.5 models/ztf-sim-base/2.1.0 "1 2 3 4" "${recipe[@]}" --augment-shift-mag 0.5
$D/cvsoup.sh r19-base2-shift-0.5 "1 2 3 4" r19-base2-shift-0.5-soup4
$D/cvpriors.sh r19-base2-shift-0.5-soup4 "$natural" r19-base2-shift-0.5-soup4-priors
$D/cvensemble.sh r19-ensemble-shift-0.5 r9-shift-0.5-soup4-priors r19-base2-shift-0.5-soup4-priors
python3 $D/cvsummary.py --json $D/cv13-results.json "$OUT/r12-ensemble2" "$OUT/r19-ensemble-shift-0.5" \
  "$OUT/r7-sqrt-soup4-priors" "$OUT/r9-shift-0.5-soup4-priors" "$OUT/r19-base2-shift-0.5-soup4-priors" "$OUT/r9-shift-1-soup4-priors"
$D/streamcheck.sh $D/stream-check.json "$OUT/r12-ensemble2" "$OUT/r19-ensemble-shift-0.5" "$OUT/r7-sqrt-soup4-priors" \
  "$OUT/r11-base2-soup4-priors" "$OUT/r9-shift-0.5-soup4-priors" "$OUT/r19-base2-shift-0.5-soup4-priors" \
  "$OUT/r9-shift-1-soup4-priors" "$OUT/r16-distill-a0.5-t2-soup4-priors" models/ztf-sim-base/2.0.0 models/ztf-bts/2.4.0 models/ztf-bts/2.5.0
