#!/usr/bin/env python3
"""Compares `evaluate` of one package at --max-steps 100 and 4000 (maxsteps.sh): the figures of both reports and, for the
objects with more than 100 observations, their whole-light-curve probabilities of the true class and top classes.
usage: maxsteps.py OUT_DIR RESULT_JSON"""
import csv
import json
import statistics
import sys

out, result = sys.argv[1], sys.argv[2]


def whole(path):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["view"] == "whole":
                rows[r["object_id"]] = r
    return rows


def figures(path):
    with open(path) as f:
        e = json.load(f)
    curve = {str(p["days"]): round(p["macroAuroc"], 4) for p in e["early"]}
    return {"macroAurocWhole": round(e["macroAuroc"], 4), "macroF1": round(e["macroF1"], 4),
            "accuracy": round(e["accuracy"], 4), "earlyMacroAuroc": curve}


short, full = whole(f"{out}/100.csv"), whole(f"{out}/4000.csv")
probs = [k for k in next(iter(short.values())) if k.startswith("p_")]
top = lambda r: max(probs, key=lambda c: float(r[c]))[2:]
long_ids = sorted(k for k in short if short[k]["steps"] != full[k]["steps"])
objects = []
for k in long_ids:
    a, b = short[k], full[k]
    objects.append({"objectId": k, "class": a["class"], "steps": [int(a["steps"]), int(b["steps"])],
                    "pTrue": [round(float(a["p_" + a["class"]]), 4), round(float(b["p_" + b["class"]]), 4)],
                    "top": [top(a), top(b)]})
summary = {
    "objects": len(short),
    "longerThan100": len(long_ids),
    "meanPTrue": [round(statistics.mean(o["pTrue"][i] for o in objects), 4) for i in (0, 1)],
    "topClassCorrect": [sum(o["top"][i] == o["class"] for o in objects) for i in (0, 1)],
    "topClassChanged": sum(o["top"][0] != o["top"][1] for o in objects),
}
doc = {"model": "models/ztf-bts/2.6.0", "data": "test part (data/splits/ztf-bts-test-ids.txt)",
       "maxSteps100": figures(f"{out}/100/evaluation.json"), "maxSteps4000": figures(f"{out}/4000/evaluation.json"),
       "longLightCurves": summary, "perObject": objects}
with open(result, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
print(json.dumps(summary))
