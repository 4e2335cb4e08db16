#!/usr/bin/env bash
# The second round of choices (docs/results/stream-conditions.md, "Round 2: keeping what the simulations taught"):
# repeated four-fold cross-validation on the BTS training part only (cv2.sh: every fold with several seeds).
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv2 POOL=/tmp/pool/ztf docs/results/stream-conditions/select2.sh ROUND BASE_PACKAGE
#   POOL: the replay pool, made by: alertbroker simulate lightcurves --survey ztf --n 10000 --out "$POOL" --seed 2 --bts
# Summarise with docs/results/stream-conditions/cvsummary.py $OUT/r4-* (etc.).
# Round 4 was planned before any of its runs: the 2.0.0 recipe (reference), then one change at a time: replay of
# simulations at three ratios and of the rare classes only, L2-SP at two strengths, a lower GRU learning rate, square-root
# class weights, and two augmentations. Later rounds are written below with the reason for each.
set -euo pipefail
round=$1
base=$2
POOL=${POOL:-/tmp/pool/ztf}
cv=docs/results/stream-conditions/cv2.sh
SEEDS=${SEEDS:-1 2}   # fine-tuning seeds per fold; runs already on disk are skipped, so SEEDS=1 then SEEDS="1 2" adds the second
ref=(--train all --lr 3e-4 --step-loss all --select early-auroc --patience 5 --batch 32 --epochs 60)
case "$round" in
  4)
    "$cv" r4-ref "$base" "$SEEDS" "${ref[@]}"
    "$cv" r4-sqrt "$base" "$SEEDS" "${ref[@]}" --class-weights sqrt
    "$cv" r4-l2sp-0.1 "$base" "$SEEDS" "${ref[@]}" --l2-sp 0.1
    "$cv" r4-l2sp-1 "$base" "$SEEDS" "${ref[@]}" --l2-sp 1
    "$cv" r4-grulr-0.1 "$base" "$SEEDS" "${ref[@]}" --gru-lr-scale 0.1
    "$cv" r4-aug-drop-noise "$base" "$SEEDS" "${ref[@]}" --augment-drop 0.2 --augment-noise 0.5
    "$cv" r4-aug-late "$base" "$SEEDS" "${ref[@]}" --augment-late-start 0.5 --augment-late-days 10
    "$cv" r4-mix-rare-0.1 "$base" "$SEEDS" "${ref[@]}" --mix-data "$POOL" --mix-classes SLSN-I,TDE --mix-ratio 0.1
    "$cv" r4-mix-0.5 "$base" "$SEEDS" "${ref[@]}" --mix-data "$POOL" --mix-ratio 0.5
    "$cv" r4-mix-1 "$base" "$SEEDS" "${ref[@]}" --mix-data "$POOL" --mix-ratio 1
    "$cv" r4-mix-2 "$base" "$SEEDS" "${ref[@]}" --mix-data "$POOL" --mix-ratio 2
    ;;
  5)
    # Added after reading round 4 run with SEEDS=1 (one seed per fold; r4-mix-2 not run, for time): the two best single
    # changes by the mean of the nine (square-root class weights; GRU layers at 0.1 × the learning rate) and the
    # reference get a second seed, and the two changes are tried together.
    "$cv" r4-ref "$base" "1 2" "${ref[@]}"
    "$cv" r4-sqrt "$base" "1 2" "${ref[@]}" --class-weights sqrt
    "$cv" r4-grulr-0.1 "$base" "1 2" "${ref[@]}" --gru-lr-scale 0.1
    "$cv" r5-sqrt-grulr-0.1 "$base" "1 2" "${ref[@]}" --class-weights sqrt --gru-lr-scale 0.1
    ;;
  *)
    echo "unknown round $round" >&2
    exit 2
    ;;
esac
