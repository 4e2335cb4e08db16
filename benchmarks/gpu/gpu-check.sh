#!/usr/bin/env bash
# The CUDA build on a GPU host: does it run there, does it agree with the CPU build, and how fast is it.
#
#   dotnet publish src/AlertBroker.Cli -c Release -r linux-x64 --self-contained -p:OnnxRuntimeFlavour=Gpu -o APP
#   benchmarks/gpu/gpu-check.sh APP OUT [SAMPLES]      # run from the checkout's root (it reads models/)
#
# SAMPLES holds ztf-real-50/ and lsst/ (alert files), as ../shared/alert-samples does (the default). OUT receives every command's output and a summary.
# CUDA 13, cuDNN 9 and the NVIDIA driver must be on the host. When LD_LIBRARY_PATH does not already reach
# libcudart.so.13, the script looks for the libraries (a CUDA toolkit under /usr/local, or the nvidia-* Python
# wheels of a PyTorch install) and says which folders it used.
set -u
if (($# < 2)) || [[ ! -x "$1/alertbroker" ]]; then
    echo "usage: benchmarks/gpu/gpu-check.sh APP OUT [SAMPLES] (APP: a folder holding the published alertbroker; got '${1:-}')" >&2
    exit 2
fi
app=$(cd "$1" && pwd)
out=$2
samples=${3:-../shared/alert-samples}
seconds=${SECONDS_PER_CASE:-5}
ab="$app/alertbroker"
[[ -d "$samples/ztf-real-50" && -d "$samples/lsst" ]] || { echo "gpu-check.sh: $samples holds no ztf-real-50/ and lsst/" >&2; exit 2; }
[[ -d models/ztf-bts/2.7.0 ]] || { echo "gpu-check.sh: run it from the checkout's root (models/ztf-bts/2.7.0 not found)" >&2; exit 2; }
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }

say "# $(date -u +%FT%TZ) on $(hostname), $(nproc) cores"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$summary"

# 1. Without CUDA's libraries on the library path the CUDA build must refuse, in one line, with exit 3.
if ! ldconfig -p | grep -q 'libcudart.so.13'; then
    env -u LD_LIBRARY_PATH "$ab" score "$samples/ztf-real-50" --device cuda >"$out/no-cuda.txt" 2>&1
    say "1. no CUDA libraries on the path: exit $? — $(tail -n 1 "$out/no-cuda.txt" | cut -c1-400)"
else
    say "1. skipped: the system's library cache already has libcudart.so.13"
fi

needed="libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudnn.so.9"
dirs=""
for lib in $needed; do
    if ! ldconfig -p | grep -q "$lib" && ! (IFS=:; for d in ${LD_LIBRARY_PATH:-}; do [ -e "$d/$lib" ] && exit 0; done; exit 1); then
        found=$(find /usr/local /opt /usr/lib -name "$lib" 2>/dev/null | head -n 1)
        [ -n "$found" ] && dirs="$dirs:$(dirname "$found")"
    fi
done
if [ -n "$dirs" ]; then
    export LD_LIBRARY_PATH="${dirs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
say "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"

# 2. The model card, loaded on CUDA.
"$ab" models inspect models/ztf-bts/2.7.0 --device cuda >"$out/inspect-cuda.txt" 2>&1
say "2. models inspect --device cuda: exit $? — $(grep -m1 'loaded by' "$out/inspect-cuda.txt" | tr -s ' │' ' ' | cut -c1-300)"

# 3. One batch of ZTF and Rubin alerts scored on each device (two models, routed per survey): the same classes?
for device in cpu cuda; do
    "$ab" score "$samples/ztf-real-50" "$samples/lsst" --jsonl --device "$device" >"$out/score-$device.jsonl" 2>"$out/score-$device.err"
    say "3. score --device $device: exit $?, $(wc -l <"$out/score-$device.jsonl") objects"
done
python3 - "$out/score-cpu.jsonl" "$out/score-cuda.jsonl" <<'EOF' | tee -a "$summary"
import json, sys
def load(p):
    rows = {}
    for line in open(p):
        o = json.loads(line)
        rows[o.get("objectId") or o.get("object")] = o
    return rows
a, b = load(sys.argv[1]), load(sys.argv[2])
if not a or a.keys() != b.keys():
    print(f"   cpu vs cuda: not comparable ({len(a)} and {len(b)} objects)")
    sys.exit()
worst, same_top, models = 0.0, 0, set()
for k, x in a.items():
    y = b[k]
    px, py = x["probabilities"], y["probabilities"]
    worst = max(worst, max(abs(px[c] - py[c]) for c in px))
    same_top += max(px, key=px.get) == max(py, key=py.get)
    models.add(f'{y.get("survey")}: {y.get("model")}')
print(f"   cpu vs cuda: {len(a)} objects, largest |Δp| {worst:.2e}, same top class {same_top}/{len(a)}; models {sorted(models)}")
EOF

# 4. Throughput end to end (decode → state → scoring → encode, in-memory state), each device, two batch sizes.
nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader -lms 500 >"$out/gpu-while-bench.csv" 2>&1 &
monitor=$!
for batch in 500 5000; do
    for device in cpu cuda; do
        "$ab" bench pipeline "$samples/ztf-real-50" "$samples/lsst" --mode embedded --seconds "$seconds" --device "$device" --batch-size "$batch" >"$out/bench-$device-$batch.txt" 2>&1
        say "4. bench pipeline --device $device --batch-size $batch: exit $?"
        grep -E 'alerts/s' "$out/bench-$device-$batch.txt" | sed 's/^ */   /' | tee -a "$summary"
    done
done
kill "$monitor" 2>/dev/null
say "   GPU memory used / utilisation while benchmarking (max): $(sort -t, -k1 -n "$out/gpu-while-bench.csv" | tail -n 1)"
