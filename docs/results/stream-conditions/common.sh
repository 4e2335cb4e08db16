# Settings shared by the experiment scripts from round 16 on (sourced by them; the earlier scripts spell the same
# settings out, as they were run): the command, the output and data folders, the 30,000 simulations of final.sh, the
# 2.2.0 fine-tuning recipe and the natural class mixes of the training part and of all 1,605 objects.
A=${A:-alertbroker}
OUT=${OUT:-/tmp/cv3}
BTS=${BTS:-../shared/labelled/ztf-bts}
export A OUT BTS
D=docs/results/stream-conditions
recipe=(--train all --lr 3e-4 --step-loss all --select early-auroc --patience 5 --batch 32 --epochs 60 --class-weights sqrt)
natural=SNIa=840,SNII=203,SNIbc=62,SLSN-I=12,TDE=6
natural_all=SNIa=1200,SNII=290,SNIbc=89,SLSN-I=17,TDE=9
sims="$OUT/sims/ztf"
# final.sh's simulations (byte-identical with today's code), made if $OUT does not have them yet.
ensure_sims() {
  [[ -f "$sims/ztf_sim_metadata.csv" ]] || $A simulate lightcurves --survey ztf --n 30000 --out "$sims" --seed 1 --bts
}
