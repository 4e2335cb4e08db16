#!/usr/bin/env bash
# After round 12, not part of any choice (docs/results/stream-conditions.md, "Afterwards"): is it *a* second base that
# helps, or that one? Per fold, the first base's 2.2.0-kind package combined with the rise-shape base's (select5.sh's
# r10-rise-soup4-priors) instead of the second base's, and all three combined; training part only. Summary by
# cvsummary.py into cv8-results.json.
#   usage (from the repository root, after select5.sh, select6.sh and select7.sh with the same OUT):
#   A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/select8.sh
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv3}
BTS=${BTS:-../shared/labelled/ztf-bts}
export A OUT BTS
D=docs/results/stream-conditions
$D/cvensemble.sh r13-ens-r7-r10 r7-sqrt-soup4-priors r10-rise-soup4-priors
$D/cvensemble.sh r13-ens3 r7-sqrt-soup4-priors r11-base2-soup4-priors r10-rise-soup4-priors
python3 $D/cvsummary.py --json $D/cv8-results.json "$OUT/r7-sqrt-soup4-priors" "$OUT/r12-ensemble2" "$OUT/r13-ens-r7-r10" "$OUT/r13-ens3"
