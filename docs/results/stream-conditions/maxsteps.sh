#!/usr/bin/env bash
# The trainer and `evaluate` keep the first --max-steps (100) observations of each light curve; the worker feeds every
# observation it holds (State:MaxObservationsPerObject, default 4,000). How much that skew moves the measured version,
# models/ztf-bts/2.6.0, on the test part: evaluate it as trained (first 100) and as the worker runs it (first 4,000, i.e.
# all of every BTS light curve: the longest has 794), and compare the objects longer than 100 observations.
# Nothing is trained or chosen here.
#   usage (from the repository root): A=alertbroker OUT=/tmp/maxsteps docs/results/stream-conditions/maxsteps.sh
#   writes $OUT/{100,4000}/evaluation.json, $OUT/{100,4000}.csv and docs/results/stream-conditions/maxsteps.json
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/maxsteps}
BTS=${BTS:-../shared/labelled/ztf-bts}
mkdir -p "$OUT"
for n in 100 4000; do
  $A evaluate --model models/ztf-bts/2.6.0 --data "$BTS" --test-ids data/splits/ztf-bts-test-ids.txt --split test \
    --max-steps "$n" --report "$OUT/$n" --predictions "$OUT/$n.csv" > /dev/null
done
python3 docs/results/stream-conditions/maxsteps.py "$OUT" docs/results/stream-conditions/maxsteps.json
