#!/usr/bin/env bash
# models/lsst-sim/1.1.0 (detections only) and the figures of docs/results/lsst-sim.md, "1.1.0" (run from the repository root):
#   A=alertbroker OUT=/tmp/lsst2 docs/results/lsst-sim/final2.sh
# Why: the worker now feeds a model only the points it was trained on (model.json encoding.detectionsOnly), so a model
# trained on detections only no longer meets forced photometry in the stream. 1.0.0 was trained on every point to
# survive that mismatch; final.sh's one-seed comparison had the detections-only fine-tune better on DES and on the
# simulated alert stream read on detections. This script makes that candidate with two seeds and evaluates it beside
# 1.0.0, each fed what the worker feeds it.
# Rule fixed before the runs: ship the detections-only recipe as the LSST default if, fed as the worker feeds it, its
# median over the seeds beats 1.0.0 on the simulated alert stream and on DES (whole light curve), and loses at most 0.02
# on held-out LSST simulations (whole light curve).
# Second step, added after the first step's figures were read: the network was trained on an equal class mix (with
# N/N_c class weights), so with the one or two points a real Rubin alert carries it names SLSN-I and TDE as often as
# SNIa. `models priors` moves it (output bias only) to the class mix of a magnitude-limited spectroscopic sample, the
# shared BTS set's class counts (no labelled Rubin sample exists to measure LSST's own mix). Rule: ship the moved
# package if its whole-curve macro AUROC stays within 0.01 of the unmoved one on all three test sets. It did not (held-out
# LSST simulations, an equal mix: −0.018), so seed 1's unmoved package is models/lsst-sim/1.1.0 and the moved ones are
# kept as a comparison (an operator can make one with the same command).
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/lsst2}
SEEDS=${SEEDS:-1 2}
SIMS=$OUT/sims/lsst
DES=${DES:-../shared/labelled/des-snphotcc-sims}
RUBIN=${RUBIN:-../shared/alert-samples/lsst-real-v7_4}
R=docs/results/lsst-sim
five=SNIa,SNII,SNIbc,SLSN-I,TDE
ids=data/splits/lsst-sim-test-ids.txt
desids=data/splits/des-sims-test-ids.txt
mkdir -p "$OUT"
# the same simulations, test parts and simulated alert stream as final.sh
[[ -f "$SIMS/lsst_sim_metadata.csv" ]] || $A simulate lightcurves --survey lsst --n 12000 --out "$SIMS" --seed 2
[[ -f "$OUT/sim-alerts-labels.csv" ]] || $A simulate alerts --survey lsst --nights 30 --no-cutouts --format files --seed 5 \
  --labels "$OUT/sim-alerts-labels.csv" --out "$OUT/sim-alerts" > /dev/null
common=(--data "$SIMS" --no-meta --classes $five --test-ids "$ids" --val 0.2 --surveys lsst --batch 32 --patience 5
  --step-loss all --select early-auroc --quiet)
model_dir() { if [[ $1 == 1 ]]; then echo models/lsst-sim/1.1.0; else echo "$OUT/runs/seed$1/lsst-sim/1.1.0"; fi; }
priors_dir() { echo "$OUT/priors/seed$1/lsst-sim/1.1.0"; }
natural=SNIa=1200,SNII=290,SNIbc=89,SLSN-I=17,TDE=9
for s in $SEEDS; do
  d=$(model_dir "$s")
  [[ -f "$d/model.json" ]] || $A finetune --from models/ztf-sim-base/2.0.0 "${common[@]}" --detections-only --epochs 60 --seed "$s" \
    --train all --lr 3e-4 --out "$d"
  p=$(priors_dir "$s")
  [[ -f "$p/model.json" ]] || $A models priors "$d" --priors "$natural" --source "class counts of the shared ZTF BTS set (a magnitude-limited spectroscopic sample)" \
    --out "$p" --name lsst-sim --version 1.1.0 > /dev/null
done
# every evaluation feeds a model what the worker feeds it (evaluate's default: the model's own detectionsOnly)
evaluate_all() { # name model
  [[ -f "$OUT/eval-alerts/$1/evaluation.json" ]] && return 0
  $A evaluate --model "$2" --data "$SIMS" --test-ids "$ids" --split test --report "$OUT/eval-lsst/$1" > /dev/null
  $A evaluate --model "$2" --data "$DES" --survey des --test-ids "$desids" --split test --report "$OUT/eval-des/$1" > /dev/null
  $A evaluate --model "$2" --data "$OUT/sim-alerts" --labels "$OUT/sim-alerts-labels.csv" --report "$OUT/eval-alerts/$1" > /dev/null
}
for s in $SEEDS; do
  evaluate_all "lsst-sim-1.1.0/seed$s" "$(model_dir "$s")"
  evaluate_all "with-natural-priors/seed$s" "$(priors_dir "$s")"
done
evaluate_all lsst-sim-1.0.0-all-points/seed1 models/lsst-sim/1.0.0
S=docs/results/stream-conditions/summarise.py
runs=(lsst-sim-1.1.0 with-natural-priors lsst-sim-1.0.0-all-points)
for e in lsst des alerts; do
  python3 $S --median --per-class --json "$R/test2-$e.json" "${runs[@]/#/$OUT/eval-$e/}" > "$R/test2-$e.md"
done
# the top class per object on real Rubin alerts and the simulated stream (rubin-alerts2.md; the same script alone
# makes it again without training)
A=$A OUT=$OUT RUBIN=$RUBIN $R/rubin-rescore.sh
