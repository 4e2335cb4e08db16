#!/usr/bin/env bash
# How much more real data would help: the 2.1.0 recipe trained on two of the three training folds (2/3 of the data)
# instead of three, for every fold held out and every fold left out, seeds 1 and 2; compared with r4-sqrt (all three
# folds) from select3.sh. Writes $OUT/lc-two-folds/s{seed}-fold{k}-without{j}/; summarise with cvsummary.py.
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/learning-curve.sh
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv3}
BTS=${BTS:-../shared/labelled/ztf-bts}
recipe=(--train all --lr 3e-4 --step-loss all --select early-auroc --patience 5 --batch 32 --epochs 60 --class-weights sqrt)
mkdir -p "$OUT/lc-two-folds"
for k in 1 2 3 4; do
  for j in 1 2 3 4; do
    [[ $j == "$k" ]] && continue
    excluded="$OUT/lc-two-folds/excluded-fold$k-without$j.txt"
    cat data/splits/ztf-bts-test-ids.txt "data/splits/ztf-bts-cv/fold$j.txt" > "$excluded"
    for s in 1 2; do
      dir="$OUT/lc-two-folds/s$s-fold$k-without$j"
      [[ -f "$dir/evaluation.json" ]] && continue
      $A finetune --from models/ztf-sim-base/2.0.0 --data "$BTS" --detections-only --no-meta --exclude-ids "$excluded" \
        --test-ids "data/splits/ztf-bts-cv/fold$k.txt" --val 0.2 --quiet --seed "$s" "${recipe[@]}" --out "$dir" > "$dir.log" 2>&1
    done
  done
done
# Paired comparison, fold by fold, same seeds (1 and 2): all three training folds (r4-sqrt) minus two of them (the mean
# over the three choices of the fold left out).
python3 - "$OUT" <<'PY'
import glob, json, statistics, sys
out = sys.argv[1]
def nine(path):
    d = json.load(open(path))
    early = {e["days"]: e["macroAuroc"] for e in d["early"]}
    figures = [d["macroAuroc"]] + [early[k] for k in (0, 2, 5, 10, 15, 20, 30, 50)]
    return {"whole": figures[0], "10 d": early[10], "mean of the nine": statistics.mean(figures)}
print("| fold | measure | two folds (2/3 of the data) | three folds (all) | gain |\n|---|---|---:|---:|---:|")
gains = {}
for k in (1, 2, 3, 4):
    two = [nine(p) for p in sorted(glob.glob(f"{out}/lc-two-folds/s[12]-fold{k}-without*/evaluation.json"))]
    three = [nine(f"{out}/r4-sqrt/s{s}-fold{k}/evaluation.json") for s in (1, 2)]
    for m in ("whole", "10 d", "mean of the nine"):
        a = statistics.mean(x[m] for x in two)
        b = statistics.mean(x[m] for x in three)
        gains.setdefault(m, []).append(b - a)
        print(f"| {k} | {m} | {a:.3f} | {b:.3f} | {b - a:+.3f} |")
for m, g in gains.items():
    print(f"| mean | {m} | | | {statistics.mean(g):+.3f} |")
PY
