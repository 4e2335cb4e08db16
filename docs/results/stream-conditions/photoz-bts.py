#!/usr/bin/env python3
"""Writes a copy of a BTS labelled set whose redshift column holds a host photometric redshift emulated from the
spectroscopic one (kept as spec_redshift), with the ZTF simulator's host photo-z model (src/AlertBroker.Simulation:
Gaussian scatter sigma*(1+z), a share of outliers drawn uniformly in [0.01, max(0.3, 3z)]) and a share of objects
without a host photo-z (hostless or too faint a host: left empty, which the encoding marks unknown). Every tool then
reads the photo-z as "the redshift" without options. The light curves are linked, not copied.
  usage: photoz-bts.py SOURCE_DIR OUT_DIR [--sigma 0.02] [--outliers 0.02] [--missing 0.1] [--seed 1]"""
import argparse, csv, math, os, random

p = argparse.ArgumentParser()
p.add_argument("source")
p.add_argument("out")
p.add_argument("--sigma", type=float, default=0.02)
p.add_argument("--outliers", type=float, default=0.02)
p.add_argument("--missing", type=float, default=0.1)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
rng = random.Random(a.seed)
os.makedirs(a.out, exist_ok=True)
meta = next(f for f in os.listdir(a.source) if f.endswith("_metadata.csv"))
curves = next(f for f in os.listdir(a.source) if "_lightcurves.csv" in f)
link = os.path.join(a.out, curves)
if not os.path.exists(link):
    os.symlink(os.path.abspath(os.path.join(a.source, curves)), link)
with open(os.path.join(a.source, meta), newline="") as f:
    rows = list(csv.DictReader(f))
fields = list(rows[0].keys()) + ["spec_redshift"]
with open(os.path.join(a.out, meta), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields)
    w.writeheader()
    for r in rows:
        z = float(r["redshift"]) if r["redshift"] not in ("", "nan", "NaN") else math.nan
        r["spec_redshift"] = r["redshift"]
        # every draw is made for every row, so one object's value does not depend on another's
        u_missing, u_outlier, u_range, g = rng.random(), rng.random(), rng.random(), rng.gauss(0, 1)
        if math.isnan(z) or u_missing < a.missing:
            r["redshift"] = ""
        else:
            pz = 0.01 + u_range * (max(0.3, 3 * z) - 0.01) if u_outlier < a.outliers else z + a.sigma * (1 + z) * g
            r["redshift"] = f"{max(0.001, pz):.4f}"
        w.writerow(r)
