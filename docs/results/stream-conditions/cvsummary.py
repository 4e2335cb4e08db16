#!/usr/bin/env python3
"""Summarises repeated cross-validation runs written by cv2.sh ($OUT/NAME/s{seed}-fold{k}/evaluation.json).

usage: cvsummary.py [--json FILE] [--subset SNIa,SNII,SNIbc] DIR [DIR ...]
  For each DIR (one candidate): every figure is first averaged over the seeds of a fold, then reported as the mean
  over the folds with [min, max] over the folds (the fold spread). Tables:
  1. macro AUROC on the whole light curve, at 0, 2, 5, 10, 15, 20, 30, 50 days, and the mean of the nine;
  2. the mean one-vs-rest AUROC of the --subset classes (default the three supernova classes), same columns;
  3. per-class AUROC, whole and at 10 days.
  --json FILE writes every run's figures and the fold means.
Standard library only.
"""
import glob
import json
import os
import re
import statistics
import sys

args = sys.argv[1:]
json_out = None
subset = ["SNIa", "SNII", "SNIbc"]
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
    dirs.append(args[i])
    i += 1

DAYS = [0, 2, 5, 10, 15, 20, 30, 50]


def figures(path):
    r = json.load(open(path))
    early = {p["days"]: p for p in r["early"]}
    classes = [c["class"] for c in r["perClass"]]
    macro = [r["macroAuroc"]] + [early[d]["macroAuroc"] for d in DAYS]
    macro.append(sum(macro) / len(macro))
    per_class = {c["class"]: [c["auroc"]] + [early[d]["perClassAuroc"][k] for d in DAYS] for k, c in enumerate(r["perClass"])}
    sub = [sum(per_class[c][j] for c in subset) / len(subset) for j in range(len(DAYS) + 1)]
    sub.append(sum(sub) / len(sub))
    hist = r.get("history") or []
    return {"macro": macro, "subset": sub, "perClass": per_class, "classes": classes,
            "support": {c["class"]: c["support"] for c in r["perClass"]}}


def cell(values):
    return f"{statistics.mean(values):.3f} [{min(values):.3f}, {max(values):.3f}]"


record = {}
summary = {}
for d in dirs:
    files = sorted(glob.glob(os.path.join(d, "*", "evaluation.json")))
    if not files:
        continue
    name = os.path.basename(d.rstrip("/"))
    folds = {}
    runs = {}
    for f in files:
        run = os.path.basename(os.path.dirname(f))
        m = re.match(r"s(\d+)-fold(\d+)(?:-without\d+)?$", run)
        fold = m.group(2) if m else run
        fig = figures(f)
        runs[run] = fig
        folds.setdefault(fold, []).append(fig)
    # average over seeds within each fold
    fold_means = {}
    for fold, figs in folds.items():
        n = len(figs)
        fm = {
            "seeds": n,
            "macro": [sum(f["macro"][j] for f in figs) / n for j in range(len(figs[0]["macro"]))],
            "subset": [sum(f["subset"][j] for f in figs) / n for j in range(len(figs[0]["subset"]))],
            "perClass": {c: [sum(f["perClass"][c][j] for f in figs) / n for j in range(len(DAYS) + 1)] for c in figs[0]["classes"]},
        }
        fold_means[fold] = fm
    summary[name] = {"runs": len(files), "folds": len(folds), "seedsPerFold": sorted({fm["seeds"] for fm in fold_means.values()}),
                     "classes": figs[0]["classes"], "foldMeans": fold_means}
    record[name] = {"runs": {k: {"macro": [round(x, 5) for x in v["macro"]],
                                 "perClass": {c: [round(x, 5) for x in vals] for c, vals in v["perClass"].items()}}
                             for k, v in runs.items()},
                    "foldMeans": {k: {"seeds": v["seeds"], "macro": [round(x, 5) for x in v["macro"]],
                                      "subset": [round(x, 5) for x in v["subset"]],
                                      "perClass": {c: [round(x, 5) for x in vals] for c, vals in v["perClass"].items()}}
                                  for k, v in fold_means.items()}}

head = "| candidate | folds × seeds | whole | " + " | ".join(f"{d} d" for d in DAYS) + " | mean of the nine |"
sep = "|---|---:|" + "---|" * (len(DAYS) + 2)
print("Macro AUROC (mean over folds [min, max over folds]; each fold averaged over its seeds):\n")
print(head)
print(sep)
for name, s in summary.items():
    cols = list(zip(*[fm["macro"] for fm in s["foldMeans"].values()]))
    print(f"| {name} | {s['folds']} × {'/'.join(map(str, s['seedsPerFold']))} | " + " | ".join(cell(c) for c in cols) + " |")

print(f"\nMean one-vs-rest AUROC of {', '.join(subset)}:\n")
print(head)
print(sep)
for name, s in summary.items():
    cols = list(zip(*[fm["subset"] for fm in s["foldMeans"].values()]))
    print(f"| {name} | {s['folds']} × {'/'.join(map(str, s['seedsPerFold']))} | " + " | ".join(cell(c) for c in cols) + " |")

if summary:
    classes = next(iter(summary.values()))["classes"]
    print("\nPer class (mean over folds [min, max]), whole light curve and 10 days:\n")
    print("| candidate | " + " | ".join(f"{c} whole" for c in classes) + " | " + " | ".join(f"{c} 10 d" for c in classes) + " |")
    print("|---|" + "---|" * (2 * len(classes)))
    for name, s in summary.items():
        whole = [cell([fm["perClass"][c][0] for fm in s["foldMeans"].values()]) for c in classes]
        day10 = [cell([fm["perClass"][c][1 + DAYS.index(10)] for fm in s["foldMeans"].values()]) for c in classes]
        print(f"| {name} | " + " | ".join(whole) + " | " + " | ".join(day10) + " |")

if json_out:
    with open(json_out, "w") as f:
        json.dump({"days": ["whole"] + DAYS + ["mean of the nine"], "subset": subset, "candidates": record}, f, indent=1)
        f.write("\n")
