#!/usr/bin/env python3
"""Summarises evaluation.json files written by `alertbroker evaluate --report` / `train` / `finetune`.

usage: summarise.py [--median] [--json FILE] [--per-class] [--intervals] [--subset A,B,…] DIR [DIR ...]
  Each DIR holds one directory per run (cross-validation fold or seed) with an evaluation.json.
  Prints a Markdown table, one row per DIR: the mean (--median: the median) [min, max] over its runs of the macro
  AUROC on the whole light curve, at 0, 2, 5, 10, 15, 20, 30, 50 days after first detection, and the mean of those
  nine figures (the selection score). --per-class adds a table of per-class AUROC (whole and at 10 days) with the
  objects per class. --intervals adds, per run, the class-stratified bootstrap 95% intervals that `evaluate
  --bootstrap` wrote (whole, 5, 10, 20 days). --subset adds a table of the mean one-vs-rest AUROC of those classes
  only (whole and every day), e.g. the three supernova classes without the 8 test SLSNe and TDEs. --json FILE also writes every run's figures (compact, no ROC curves).
Standard library only.
"""
import glob
import json
import os
import statistics
import sys

args = sys.argv[1:]
median = "--median" in args
per_class = "--per-class" in args
intervals = "--intervals" in args
subset = None
json_out = None
dirs = []
i = 0
while i < len(args):
    if args[i] == "--json":
        json_out = args[i + 1]
        i += 2
        continue
    if args[i] == "--subset":
        subset = args[i + 1].split(",")
        i += 2
        continue
    if not args[i].startswith("--"):
        dirs.append(args[i])
    i += 1

DAYS = [0, 2, 5, 10, 15, 20, 30, 50]
centre = statistics.median if median else statistics.mean


def cell(values):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    return f"{centre(values):.3f} [{min(values):.3f}, {max(values):.3f}]"


def r5(value):
    """Rounded; None for what the report writes as text (e.g. "NaN": the AUROC of a class absent from the data)."""
    return round(value, 5) if isinstance(value, (int, float)) else None


record = {}
print("| runs | n | whole | " + " | ".join(f"{d} d" for d in DAYS) + " | mean of the nine |")
print("|---|---:|" + "---|" * (len(DAYS) + 2))
class_rows = []
for d in dirs:
    files = sorted(glob.glob(os.path.join(d, "*", "evaluation.json")))
    if not files:
        continue
    name = os.path.basename(d.rstrip("/"))
    rows, runs = [], []
    for f in files:
        r = json.load(open(f))
        early = {p["days"]: p for p in r["early"]}
        values = [r["macroAuroc"]] + [early[x]["macroAuroc"] for x in DAYS]
        rows.append(values + [sum(values) / len(values)])
        runs.append({
            "run": os.path.basename(os.path.dirname(f)),
            "interval": r.get("macroAurocInterval"),
            "earlyInterval": {str(x): early[x].get("macroAurocInterval") for x in DAYS},
            "perClassEarly": {c["class"]: {str(x): early[x]["perClassAuroc"][k] for x in DAYS} for k, c in enumerate(r["perClass"])},
            "conditions": r.get("conditions", ""),
            "objects": r["objects"],
            "macroAuroc": round(r["macroAuroc"], 5),
            "early": {str(x): round(early[x]["macroAuroc"], 5) for x in DAYS},
            "perClass": {c["class"]: {"support": c["support"], "auroc": r5(c["auroc"]),
                                      "aurocDay10": r5(early[10]["perClassAuroc"][k])}
                         for k, c in enumerate(r["perClass"])},
        })
    record[name] = runs
    cols = list(zip(*rows))
    print(f"| {name} | {len(files)} | " + " | ".join(cell(c) for c in cols) + " |")
    classes = [c["class"] for c in json.load(open(files[0]))["perClass"]]
    support = [c["support"] for c in json.load(open(files[0]))["perClass"]]
    whole = [[run["perClass"][c]["auroc"] for run in runs] for c in classes]
    day10 = [[run["perClass"][c]["aurocDay10"] for run in runs] for c in classes]
    class_rows.append((name, classes, support, whole, day10))

if per_class and class_rows:
    print()
    classes = class_rows[0][1]
    print("| runs | " + " | ".join(f"{c} whole" for c in classes) + " | " + " | ".join(f"{c} 10 d" for c in classes) + " |")
    print("|---|" + "---|" * (2 * len(classes)))
    print("| objects | " + " | ".join(str(s) for s in class_rows[0][2]) + " | " + " | ".join(str(s) for s in class_rows[0][2]) + " |")
    for name, _, _, whole, day10 in class_rows:
        print(f"| {name} | " + " | ".join(cell(v) for v in whole) + " | " + " | ".join(cell(v) for v in day10) + " |")

if subset:
    print()
    print(f"| runs | n | mean AUROC of {', '.join(subset)}: whole | " + " | ".join(f"{d} d" for d in DAYS) + " |")
    print("|---|---:|" + "---|" * (len(DAYS) + 1))
    for name, runs in record.items():
        cols = [[sum(run["perClass"][c]["auroc"] for c in subset) / len(subset) for run in runs]]
        for d in DAYS:
            cols.append([sum(run["perClassEarly"][c][str(d)] for c in subset) / len(subset) for run in runs])
        print(f"| {name} | {len(runs)} | " + " | ".join(cell(c) for c in cols) + " |")

if intervals:
    print()
    print("| runs | run | whole | 5 d | 10 d | 20 d |")
    print("|---|---|---|---|---|---|")
    for name, runs in record.items():
        for run in runs:
            if not run.get("interval"):
                continue
            def iv(v, i):
                return f"{v:.3f} [{i[0]:.3f}, {i[1]:.3f}]" if i else f"{v:.3f}"
            print(f"| {name} | {run['run']} | {iv(run['macroAuroc'], run['interval'])} | "
                  + " | ".join(iv(run["early"][d], run["earlyInterval"][d]) for d in ["5", "10", "20"]) + " |")

if json_out:
    with open(json_out, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
