#!/usr/bin/env bash
# rubin-alerts2.md again, without training anything: the top class each model gives each object of the real Rubin alerts
# and of the simulated LSST alert stream, fed as the worker feeds it now (run from the repository root):
#   A=alertbroker OUT=/tmp/lsst2 docs/results/lsst-sim/rubin-rescore.sh
# Why: since 2026-12-07 a detections-only model is fed detections of positive flux only (Rubin reports diaSources of
# either sign; no training detection is negative). The simulated stream has no negative detection, so only the real
# alerts' rows can change. The inputs are final2.sh's: its simulated alert stream (same seed) and the natural-mix
# package of seed 1 (the same `models priors` command).
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/lsst2}
RUBIN=${RUBIN:-../shared/alert-samples/lsst-real-v7_4}
R=docs/results/lsst-sim
natural=SNIa=1200,SNII=290,SNIbc=89,SLSN-I=17,TDE=9
mkdir -p "$OUT/scores"
[[ -f "$OUT/sim-alerts-labels.csv" ]] || $A simulate alerts --survey lsst --nights 30 --no-cutouts --format files --seed 5 \
  --labels "$OUT/sim-alerts-labels.csv" --out "$OUT/sim-alerts" > /dev/null
p=$OUT/priors/seed1/lsst-sim/1.1.0
[[ -f "$p/model.json" ]] || $A models priors models/lsst-sim/1.1.0 --priors "$natural" --source "class counts of the shared ZTF BTS set (a magnitude-limited spectroscopic sample)" \
  --out "$p" --name lsst-sim --version 1.1.0 > /dev/null
for m in models/lsst-sim/1.1.0 "$p" models/lsst-sim/1.0.0; do
  n=$(jq -r '.name + "-" + .version' "$m/model.json"); [[ $m == "$p" ]] && n=lsst-sim-1.1.0-with-natural-priors
  $A score --model "$m" --jsonl "$RUBIN" > "$OUT/scores/score-rubin-$n.jsonl"
  $A score --model "$m" --jsonl "$OUT/sim-alerts" > "$OUT/scores/score-sim-$n.jsonl"
done
python3 $R/alerts.py "$OUT/scores" > $R/rubin-alerts2.md
