#!/usr/bin/env bash
# The settings search of docs/results/stream-conditions.md: four-fold cross-validation on the BTS training part only.
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv docs/results/stream-conditions/select.sh ROUND BASE_PACKAGE TAG
# Each candidate's folds go to $OUT/TAG-candidate/fold{1..4}; summarise with
#   docs/results/stream-conditions/summarise.py $OUT/TAG-*
# Round 1 was planned before any run; round 2 was added after reading round 1 (early-AUROC selection helped at 10 d,
# so: a loss that weights time like that metric, and more patience for the noisier selection figure). Round 3 repeats
# the best recipes on a second base.
set -euo pipefail
round=$1
base=$2
tag=$3
cv=docs/results/stream-conditions/cv.sh
common=(--batch 32 --epochs 60 --seed 1)
case "$round" in
  1)
    "$cv" "$tag-zero-shot" "$base"
    "$cv" "$tag-all-1e-4-loss" "$base" --train all --lr 1e-4 --step-loss all --select loss --patience 5 "${common[@]}"
    "$cv" "$tag-all-1e-4-object-loss" "$base" --train all --lr 1e-4 --step-loss object --select loss --patience 5 "${common[@]}"
    "$cv" "$tag-all-1e-4-early" "$base" --train all --lr 1e-4 --step-loss all --select early-auroc --patience 5 "${common[@]}"
    "$cv" "$tag-all-3e-4-early" "$base" --train all --lr 3e-4 --step-loss all --select early-auroc --patience 5 "${common[@]}"
    "$cv" "$tag-head-1e-3-early" "$base" --train latent,output --lr 1e-3 --step-loss all --select early-auroc --patience 5 "${common[@]}"
    "$cv" "$tag-all-1e-4-unweighted-early" "$base" --train all --lr 1e-4 --step-loss all --select early-auroc --unweighted --patience 5 "${common[@]}"
    ;;
  2)
    "$cv" "$tag-all-1e-4-checkpoints-early" "$base" --train all --lr 1e-4 --step-loss checkpoints --select early-auroc --patience 5 "${common[@]}"
    "$cv" "$tag-all-3e-4-checkpoints-early" "$base" --train all --lr 3e-4 --step-loss checkpoints --select early-auroc --patience 5 "${common[@]}"
    "$cv" "$tag-all-1e-4-early-p10" "$base" --train all --lr 1e-4 --step-loss all --select early-auroc --patience 10 "${common[@]}"
    "$cv" "$tag-all-1e-4-checkpoints-unweighted-early" "$base" --train all --lr 1e-4 --step-loss checkpoints --select early-auroc --unweighted --patience 5 "${common[@]}"
    ;;
  3)
    # Another base (trained with the checkpoint loss): the best round-1/2 recipes again.
    "$cv" "$tag-zero-shot" "$base"
    "$cv" "$tag-all-1e-4-early" "$base" --train all --lr 1e-4 --step-loss all --select early-auroc --patience 5 "${common[@]}"
    "$cv" "$tag-all-3e-4-early" "$base" --train all --lr 3e-4 --step-loss all --select early-auroc --patience 5 "${common[@]}"
    "$cv" "$tag-all-1e-4-checkpoints-early" "$base" --train all --lr 1e-4 --step-loss checkpoints --select early-auroc --patience 5 "${common[@]}"
    ;;
  *)
    echo "round must be 1, 2 or 3" >&2
    exit 2
    ;;
esac
