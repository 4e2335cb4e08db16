#!/usr/bin/env bash
# The stream check: the fold packages of cross-validation candidates scored on a simulated ZTF alert stream — every
# detectable transient of the survey simulator, natural class mix, down to the survey's limit (not BTS's selection of
# objects brighter than 18.5 mag: most of a real stream's transients are fainter than any BTS object), partial light
# curves as the worker sees them — with known truth: macro AUROC (whole and at 10 days, `evaluate --labels`) and the
# share of objects whose top class is SLSN-I (`score`; true share in the stream printed too).
#   usage (from the repository root): A=alertbroker OUT=/tmp/cv3 docs/results/stream-conditions/streamcheck.sh JSON CANDIDATE…
#   CANDIDATE: a directory $OUT/NAME with s0-fold{1..4}/pkg (cvsoup/cvpriors/cvensemble) or a package directory.
#   writes JSON: per candidate and fold {whole, day10, slsnTopShare}.
#   STREAM_SEED (default 5): the simulated stream's seed; other seeds go to $OUT/stream-ztf-seedN.
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv3}
json=$1
shift
seed=${STREAM_SEED:-5}
suffix=$([[ $seed == 5 ]] || echo "-seed$seed")
stream="$OUT/stream-ztf$suffix"
labels="$OUT/stream-ztf$suffix-labels.csv"
[[ -f "$labels" ]] || $A simulate alerts --survey ztf --nights 30 --objects-per-night 40 --seed "$seed" --no-cutouts --format tar \
  --out "$stream" --labels "$labels" > /dev/null 2>&1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in "$@"; do
  if [[ -f "$c/model.json" ]]; then pkgs=("$c"); else pkgs=("$c"/s0-fold{1,2,3,4}/pkg); fi
  for pkg in "${pkgs[@]}"; do
    key="$(basename "$c")|$(basename "$(dirname "$pkg")")"
    $A score "$stream" --model "$pkg" --jsonl > "$tmp/score.jsonl" 2> /dev/null
    rm -rf "$tmp/eval"
    $A evaluate --model "$pkg" --data "$stream" --labels "$labels" --report "$tmp/eval" > /dev/null 2>&1
    python3 - "$key" "$tmp" "$labels" >> "$tmp/rows.jsonl" <<'PY'
import csv, json, sys
key, tmp, labels = sys.argv[1:4]
rows = [json.loads(l) for l in open(f"{tmp}/score.jsonl")]
truth = {r["object_id"]: r["class"] for r in csv.DictReader(open(labels))}
report = json.load(open(f"{tmp}/eval/evaluation.json"))
early = {p["days"]: p["macroAuroc"] for p in report["early"]}
share = sum(r["topClass"] == "SLSN-I" for r in rows) / len(rows)
true_share = sum(truth.get(r["objectId"]) == "SLSN-I" for r in rows) / len(rows)
print(json.dumps({"key": key, "objects": len(rows), "whole": report["macroAuroc"], "day10": early[10], "slsnTopShare": share, "slsnTrueShare": true_share}))
PY
  done
done
python3 - "$tmp/rows.jsonl" "$json" "$seed" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])]
out = {}
for r in rows:
    name, fold = r["key"].split("|")
    out.setdefault(name, {})[fold] = {k: round(r[k], 4) for k in ("whole", "day10", "slsnTopShare")}
    out[name][fold]["objects"] = r["objects"]
true_share = round(rows[0]["slsnTrueShare"], 4)
json.dump({"stream": f"simulate alerts --survey ztf --nights 30 --objects-per-night 40 --seed {sys.argv[3]}", "slsnTrueShare": true_share, "candidates": out}, open(sys.argv[2], "w"), indent=1)
print(f"| candidate | packages | stream macro AUROC, whole | at 10 d | share named SLSN-I (true {true_share:.3f}) |")
print("|---|---:|---|---|---|")
for name, folds in out.items():
    def cell(k):
        v = [f[k] for f in folds.values()]
        return f"{statistics.mean(v):.3f} [{min(v):.3f}, {max(v):.3f}]" if len(v) > 1 else f"{v[0]:.3f}"
    print(f"| {name} | {len(folds)} | {cell('whole')} | {cell('day10')} | {cell('slsnTopShare')} |")
PY
