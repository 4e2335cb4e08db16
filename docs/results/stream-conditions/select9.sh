#!/usr/bin/env bash
# Round 13 of the choices (docs/results/stream-conditions.md, "Tried and not adopted: wider simulations"): domain
# randomisation within the simulator's own per-object scatter. Every earlier base was trained on simulations whose
# objects scatter around the tuned class parameters as the literature says they do; a network trained on a wider
# spread of shapes and colours than reality might carry better to real light curves whose shapes and colours the
# simulator gets only roughly (docs/simulation.md, "Where it does not match"). Here every class's time-scale scatter
# (rise and decline, dex) is ×1.5 and its peak-temperature scatter ×2 — nothing else changes (the tuned parameters of
# docs/results/simulation-tuning/tuned-parameters.json otherwise) — 30,000 simulations as final.sh's, two bases as
# ztf-sim-base 2.0.0 and 2.1.0 (training seeds 1 and 2), the 2.2.0 recipe on each, and their ensemble, four folds of
# the training part only, exactly as select3/6/7.sh. Summary by cvsummary.py into cv9-results.json.
#   usage (from the repository root, with select3/6/7.sh's runs under the same OUT):
#   A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/select9.sh
# Rule, fixed before the runs: the wider ensemble replaces the current one (r12-ensemble2) only if (a) its 10-day
# figure is at least 0.005 above r12's 0.852 and (b) better than r12 at 10 days in at least three of the four folds
# and (c) its mean of the nine is not below r12's 0.827; only then would packages be made and the test part read.
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv3}
BTS=${BTS:-../shared/labelled/ztf-bts}
export A OUT BTS
D=docs/results/stream-conditions
params="$OUT/wide-parameters.json"
python3 - "$params" <<'PY'
import json, sys
d = json.load(open("docs/results/simulation-tuning/tuned-parameters.json"))
for c in d["classes"]:
    c["timeScaleScatter"] = round(c["timeScaleScatter"] * 1.5, 6)
    c["peakTemperatureSigmaK"] = round(c["peakTemperatureSigmaK"] * 2, 6)
d["command"] = "select9.sh: tuned-parameters.json with timeScaleScatter x1.5 and peakTemperatureSigmaK x2"
json.dump(d, open(sys.argv[1], "w"), indent=2)
PY
sims="$OUT/sims/wide"
[[ -f "$sims/ztf_sim_metadata.csv" ]] || $A simulate lightcurves --survey ztf --n 30000 --out "$sims" --seed 1 --bts --parameters "$params"
recipe=(--train all --lr 3e-4 --step-loss all --select early-auroc --patience 5 --batch 32 --epochs 60 --class-weights sqrt)
natural=SNIa=840,SNII=203,SNIbc=62,SLSN-I=12,TDE=6
for seed in 1 2; do
  base="$OUT/ztf-sim-base-wide-seed$seed"
  [[ -f "$base/model.json" ]] || $A train --data "$sims" --detections-only --no-meta --classes SNIa,SNII,SNIbc,SLSN-I,TDE \
    --epochs 30 --val 0.1 --test 0.1 --seed "$seed" --step-loss checkpoints --surveys ztf --quiet --out "$base"
  $D/cv2.sh "r14-wide$seed" "$base" "1 2 3 4" "${recipe[@]}"
  $D/cvsoup.sh "r14-wide$seed" "1 2 3 4" "r14-wide$seed-soup4"
  $D/cvpriors.sh "r14-wide$seed-soup4" "$natural" "r14-wide$seed-soup4-priors"
done
new=r14-wide-ensemble2
$D/cvensemble.sh "$new" r14-wide1-soup4-priors r14-wide2-soup4-priors
python3 $D/cvsummary.py --json $D/cv9-results.json "$OUT/r7-sqrt-soup4-priors" "$OUT/r11-base2-soup4-priors" "$OUT/r12-ensemble2" \
  "$OUT/r14-wide1-soup4-priors" "$OUT/r14-wide2-soup4-priors" "$OUT/$new"
