#!/usr/bin/env bash
# Round 12 of the choices (docs/results/stream-conditions.md, "An ensemble of two bases"): per fold, the 2.2.0-kind
# package fine-tuned from base 1 (select3.sh's r7-sqrt-soup4-priors) and the one from base 2 (select6.sh's
# r11-base2-soup4-priors) combined by `models ensemble` (the mean of their logits, one network twice as wide), then
# evaluated on the fold's held-out objects; training part only. Summary by cvsummary.py into cv7-results.json.
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/select7.sh
# Rule, fixed before the runs: the ensemble replaces the single-base recipe only if (a) its mean of the nine is above
# r7-sqrt-soup4-priors' 0.826 (the better member), (b) its 10-day figure is at least r7's 0.846, and (c) it beats r7 at
# 10 days in at least three of the four folds — a gain larger than the spread one base's seed puts on the figures
# (select6.sh), since it costs about twice the scoring of one network (four times as first exported, block-diagonal).
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv3}
BTS=${BTS:-../shared/labelled/ztf-bts}
export A OUT BTS
D=docs/results/stream-conditions
new=r12-ensemble2
$D/cvensemble.sh "$new" r7-sqrt-soup4-priors r11-base2-soup4-priors
python3 $D/cvsummary.py --json $D/cv7-results.json "$OUT/r7-sqrt-soup4-priors" "$OUT/r11-base2-soup4-priors" "$OUT/$new"
