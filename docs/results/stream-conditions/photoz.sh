#!/usr/bin/env bash
# A measurement, not a choice (docs/results/stream-conditions.md, "What a host photometric redshift would be worth"):
# alerts carry no redshift, but a worker can be given one per object from a catalogue (Metadata:Sources, docs/worker.md),
# and host-galaxy photometric redshifts are what a catalogue cross-match can supply for most objects. The shared BTS set
# has spectroscopic redshifts only, so photo-z are emulated from them (photoz-bts.py: scatter 0.02(1+z), 2% outliers,
# 10% of objects without one — the ZTF simulator's photo-z model plus hostless objects), a base is trained on the
# 30,000 simulations of final.sh with their simulated host photo-z (seed 1), and the 2.2.0 recipe is cross-validated on
# the training part with the emulated photo-z exactly as r7 (4 seeds per fold, soup, natural mix).
# Summary by cvsummary.py into cv12-results.json, beside r7 (no redshift) and select11.sh's teachers (spectroscopic).
#   usage (from the repository root, with select3.sh's and select11.sh's runs under the same OUT):
#   A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/photoz.sh
set -euo pipefail
source docs/results/stream-conditions/common.sh
ensure_sims
base="$OUT/ztf-sim-base-photoz-seed1"
[[ -f "$base/model.json" ]] || $A train --data "$sims" --redshift-column host_photoz --detections-only \
  --classes SNIa,SNII,SNIbc,SLSN-I,TDE --epochs 30 --val 0.1 --test 0.1 --seed 1 --step-loss checkpoints --surveys ztf \
  --quiet --out "$base"
[[ -f "$OUT/bts-photoz/ztf_bts_train_metadata.csv" ]] || python3 $D/photoz-bts.py ../shared/labelled/ztf-bts "$OUT/bts-photoz" \
  --sigma 0.02 --outliers 0.02 --missing 0.1 --seed 1
export BTS="$OUT/bts-photoz"
NOMETA= $D/cv2.sh r17-photoz "$base" "1 2 3 4" "${recipe[@]}"
$D/cvsoup.sh r17-photoz "1 2 3 4" r17-photoz-soup4
$D/cvpriors.sh r17-photoz-soup4 "$natural" r17-photoz-soup4-priors
python3 $D/cvsummary.py --json $D/cv12-results.json "$OUT/r7-sqrt-soup4-priors" "$OUT/r17-photoz-soup4-priors" \
  "$OUT/r16-teacher-soup2"
