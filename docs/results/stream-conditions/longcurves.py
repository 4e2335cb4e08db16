#!/usr/bin/env python3
"""Round 18 (select13.sh), part (b): cross-validation fold packages scored as the worker scores them (`evaluate
--max-steps 4000`, every observation of every BTS light curve). Per candidate: the whole-light-curve macro AUROC of each
fold and their mean, and, over the training part's objects with more than 100 observations (each scored by the fold
package that did not see it), the true class's mean probability after the last observation and how often the top
class is right.
usage: longcurves.py OUT RESULT_JSON CANDIDATE [CANDIDATE ...]   (reads OUT/CANDIDATE/s0-fold{1..4}/every{.csv,/evaluation.json})
Standard library only."""
import csv
import json
import statistics
import sys

out, result, candidates = sys.argv[1], sys.argv[2], sys.argv[3:]
doc = {"rule": "select13.sh (b)", "candidates": {}}
for c in candidates:
    folds, objects = {}, {}
    for k in (1, 2, 3, 4):
        run = f"{out}/{c}/s0-fold{k}"
        with open(f"{run}/every/evaluation.json") as f:
            folds[f"fold{k}"] = round(json.load(f)["macroAuroc"], 4)
        with open(f"{run}/every.csv", newline="") as f:
            for r in csv.DictReader(f):
                if r["view"] == "whole" and int(r["steps"]) > 100:
                    probs = {key[2:]: float(v) for key, v in r.items() if key.startswith("p_")}
                    objects[r["object_id"]] = {"class": r["class"], "steps": int(r["steps"]),
                                               "pTrue": round(probs[r["class"]], 4),
                                               "top": max(probs, key=probs.get)}
    doc["candidates"][c] = {
        "wholeEveryObservation": {"folds": folds, "mean": round(statistics.mean(folds.values()), 4)},
        "longerThan100": len(objects),
        "meanPTrue": round(statistics.mean(o["pTrue"] for o in objects.values()), 4),
        "topClassCorrect": sum(o["top"] == o["class"] for o in objects.values()),
        "perObject": dict(sorted(objects.items())),
    }
    s = doc["candidates"][c]
    print(f"{c}: whole (every observation) {s['wholeEveryObservation']['mean']:.4f} {folds}; "
          f"{s['longerThan100']} objects > 100 observations: mean p(true) {s['meanPTrue']:.4f}, top class right {s['topClassCorrect']}")
with open(result, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
