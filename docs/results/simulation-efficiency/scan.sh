#!/usr/bin/env bash
# A detection efficiency near the 5σ threshold (docs/simulation.md, "Tried: a detection efficiency"): 20,000 simulated
# ZTF light curves with the BTS-like selection for each δ, compared with the tuning part only (the test ids left out);
# prints the tuner's data term Σ √n_c · D (n_c the class's tuning objects) and the KS distances that move most.
#   usage (from the repository root): A=alertbroker OUT=/tmp/eff docs/results/simulation-efficiency/scan.sh
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/eff}
mkdir -p "$OUT"
for d in 0 0.15 0.3 0.5 0.8; do
  [[ -f "$OUT/sim-$d/ztf_sim_metadata.csv" ]] || $A simulate lightcurves --survey ztf --n 20000 --seed 1 --bts \
    --detection-efficiency-mag "$d" --out "$OUT/sim-$d" > /dev/null 2>&1
  $A simulate compare --sim "$OUT/sim-$d" --exclude-ids data/splits/ztf-bts-test-ids.txt --out "$OUT/cmp-$d" > "$OUT/cmp-$d.txt" 2>&1
done
python3 - "$OUT" <<'PY'
import math, re, sys
out = sys.argv[1]
n = {'SNIa': 840, 'SNII': 203, 'SNIbc': 62, 'SLSN-I': 12, 'TDE': 6}   # tuning-part objects per class
deltas = ['0', '0.15', '0.3', '0.5', '0.8']
rows = {}
for d in deltas:
    rows[d] = {}
    for line in open(f'{out}/cmp-{d}.txt'):
        m = re.match(r'(\S+)\s+(\S+)\s+real\s+(\S+)\s+sim\s+(\S+)\s+KS ([\d.]+)', line)
        if m:
            c, q, real, sim, ks = m.groups()
            rows[d][(c, q)] = (real, sim, float(ks))
print('| δ (mag) | ' + ' | '.join(deltas) + ' |')
print('|---|' + '---:|' * len(deltas))
print('| data term Σ √n·D | ' + ' | '.join(f"{sum(math.sqrt(n[c]) * v[2] for (c, q), v in rows[d].items()):.1f}" for d in deltas) + ' |')
for c in ['SNIa', 'SNII', 'SNIbc']:
    for q in ['first_mag', 'n_det', 'duration_days', 'rise_days']:
        real = rows['0'][(c, q)][0]
        print(f'| {c} {q} (real {real}): sim median, KS | ' + ' | '.join(f"{rows[d][(c, q)][1]}, {rows[d][(c, q)][2]:.2f}" for d in deltas) + ' |')
PY
