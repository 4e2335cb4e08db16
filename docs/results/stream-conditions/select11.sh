#!/usr/bin/env bash
# Round 16 of the choices (docs/results/stream-conditions.md, "Distillation with privileged information"): a teacher
# that sees the spectroscopic redshift — which the stream never carries — scores every step of the training light
# curves, and the streaming student (no metadata) is fine-tuned on its probabilities beside the labels (`finetune
# --distill-from`, docs/training.md). Per fold, the teacher is fitted on that fold's training folds only (a base with a
# metadata branch trained on final.sh's 30,000 simulations with their redshifts, seed 1, then the 2.2.0 recipe with
# redshift and A_V, seeds 1 and 2 averaged), so the held-out fold is unseen by teacher and student alike. Students: the
# 2.2.0 recipe from models/ztf-sim-base/2.0.0 (4 seeds per fold, soup, natural mix, as select3.sh's r7) with
#   A: --distill-weight 0.5 --distill-temperature 1     B: --distill-weight 0.5 --distill-temperature 2
# Summary by cvsummary.py into cv11-results.json (the teachers' own figures, with redshift, beside).
#   usage (from the repository root, with select3.sh's runs under the same OUT):
#   A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/select11.sh
# Rule, fixed before the runs: the better of A and B at 10 days is made on both bases and read on the test part only if
# (a) its 10-day figure is at least 0.01 above r7-sqrt-soup4-priors' 0.846 (one base's seed moves it by ~0.01: round
# 11), (b) it is better than r7 at 10 days in at least three of the four folds and (c) its mean of the nine is not below
# r7's 0.826. Otherwise the round is written down as not adopted and the test part is not read.
set -euo pipefail
source docs/results/stream-conditions/common.sh
ensure_sims
teacher_base="$OUT/ztf-sim-base-meta-seed1"
[[ -f "$teacher_base/model.json" ]] || $A train --data "$sims" --detections-only --classes SNIa,SNII,SNIbc,SLSN-I,TDE \
  --epochs 30 --val 0.1 --test 0.1 --seed 1 --step-loss checkpoints --surveys ztf --quiet --out "$teacher_base"
NOMETA= $D/cv2.sh r16-teacher "$teacher_base" "1 2" "${recipe[@]}"
$D/cvsoup.sh r16-teacher "1 2" r16-teacher-soup2
teacher="$OUT/r16-teacher-soup2/s0-fold{k}/pkg"
$D/cv2.sh r16-distill-a0.5 models/ztf-sim-base/2.0.0 "1 2 3 4" "${recipe[@]}" --distill-from "$teacher" --distill-weight 0.5
$D/cv2.sh r16-distill-a0.5-t2 models/ztf-sim-base/2.0.0 "1 2 3 4" "${recipe[@]}" --distill-from "$teacher" --distill-weight 0.5 --distill-temperature 2
for c in r16-distill-a0.5 r16-distill-a0.5-t2; do
  $D/cvsoup.sh "$c" "1 2 3 4" "$c-soup4"
  $D/cvpriors.sh "$c-soup4" "$natural" "$c-soup4-priors"
done
python3 $D/cvsummary.py --json $D/cv11-results.json "$OUT/r7-sqrt-soup4-priors" "$OUT/r16-distill-a0.5-soup4-priors" \
  "$OUT/r16-distill-a0.5-t2-soup4-priors" "$OUT/r16-teacher-soup2"
