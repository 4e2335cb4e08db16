#!/usr/bin/env bash
# Scans of two survey settings that could make simulated light curves start as late as real ones (docs/simulation.md,
# "Tried: …"): for each value, 20,000 simulated ZTF light curves with the BTS-like selection, compared with the tuning
# part only (the test ids left out); prints the tuner's data term Σ √n_c · D (n_c the class's tuning objects) and the
# KS distances that move most, as a markdown table.
#   usage (from the repository root): A=alertbroker OUT=/tmp/eff docs/results/simulation-efficiency/scan.sh OPTION "VALUES"
#   e.g.  … scan.sh --detection-efficiency-mag "0 0.15 0.3 0.5 0.8"      (scan.md)
#         … scan.sh --first-detection-sigma "0 7 10 15 20"             (scan-first.md)
set -euo pipefail
A=${A:-alertbroker}
OUT=${OUT:-/tmp/eff}
option=$1
values=$2
tag=${option#--}
mkdir -p "$OUT"
for v in $values; do
  [[ -f "$OUT/$tag-$v/ztf_sim_metadata.csv" ]] || $A simulate lightcurves --survey ztf --n 20000 --seed 1 --bts \
    "$option" "$v" --out "$OUT/$tag-$v" > /dev/null 2>&1
  [[ -s "$OUT/cmp-$tag-$v.txt" ]] || $A simulate compare --sim "$OUT/$tag-$v" --exclude-ids data/splits/ztf-bts-test-ids.txt \
    --out "$OUT/cmp-$tag-$v" > "$OUT/cmp-$tag-$v.txt" 2>&1
done
python3 - "$OUT" "$tag" $values <<'PY'
import math, re, sys
out, tag, values = sys.argv[1], sys.argv[2], sys.argv[3:]
n = {'SNIa': 840, 'SNII': 203, 'SNIbc': 62, 'SLSN-I': 12, 'TDE': 6}   # tuning-part objects per class
rows = {}
for v in values:
    rows[v] = {}
    for line in open(f'{out}/cmp-{tag}-{v}.txt'):
        m = re.match(r'(\S+)\s+(\S+)\s+real\s+(\S+)\s+sim\s+(\S+)\s+KS ([\d.]+)', line)
        if m:
            c, q, real, sim, ks = m.groups()
            rows[v][(c, q)] = (real, sim, float(ks))
print(f'| --{tag} | ' + ' | '.join(values) + ' |')
print('|---|' + '---:|' * len(values))
print('| data term Σ √n·D | ' + ' | '.join(f"{sum(math.sqrt(n[c]) * x[2] for (c, q), x in rows[v].items()):.1f}" for v in values) + ' |')
for c in ['SNIa', 'SNII', 'SNIbc']:
    for q in ['first_mag', 'n_det', 'duration_days', 'rise_days', 'g_minus_r_first_5d', 'r_rise_rate_first_5d']:
        real = rows[values[0]][(c, q)][0]
        print(f'| {c} {q} (real {real}): sim median, KS | ' + ' | '.join(f"{rows[v][(c, q)][1]}, {rows[v][(c, q)][2]:.2f}" for v in values) + ' |')
PY
