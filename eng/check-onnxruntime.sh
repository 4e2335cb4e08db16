#!/usr/bin/env bash
# Checks, after the Release build (eng/test.sh runs it), what unit tests cannot:
#  1. the CLI published to a folder outside the checkout finds ONNX Runtime in that folder, run from another directory
#     with no ALERTBROKER_* or LD_LIBRARY_PATH variables: `models inspect`, `score` and `demo` work;
#  2. the GPU flavour (-p:OnnxRuntimeFlavour=Gpu: Microsoft.ML.OnnxRuntime.Gpu, CUDA 13) restores and builds into
#     bin/gpu + obj/gpu, runs on the CPU, and `--device cuda` on a host without CUDA ends with exit 3 and one line that
#     says so (on a host with CUDA it must succeed instead);
#  3. the container image's program: the Dockerfile's self-contained publish command, run on a copy of its build
#     context, gives a program that finds librdkafka and ONNX Runtime in its own folder: `demo` works (librdkafka was
#     looked for everywhere but there, so the image's worker could not start; no Docker engine here to build the image).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
model="$root/models/ztf-bts/2.7.0"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log() { printf '[check-onnxruntime] %s\n' "$*"; }
fail() { printf '[check-onnxruntime] FAILED: %s\n' "$*" >&2; exit 1; }
clean_env=(env -u LD_LIBRARY_PATH -u ALERTBROKER_ONNXRUNTIME_PATH)

# 1. published CLI, run from elsewhere
dotnet publish src/AlertBroker.Cli -c Release --no-build -o "$work/publish" -nologo -v q >/dev/null
mkdir "$work/elsewhere"
out="$(cd "$work/elsewhere" && "${clean_env[@]}" "$work/publish/alertbroker" models inspect "$model" 2>&1)" \
  || fail "published models inspect: $out"
squeezed="$(tr -d ' │\n' <<<"$out")"
[[ "$squeezed" == *"from$work/publish/libonnxruntime.so"* ]] || fail "published CLI did not load its own libonnxruntime.so: $out"
if [[ -d "$root/../shared/alert-samples/ztf" ]]; then
  lines="$(cd "$work/elsewhere" && "${clean_env[@]}" "$work/publish/alertbroker" score --model "$model" --jsonl "$root/../shared/alert-samples/ztf" | wc -l)" \
    || fail "published score"
  ((lines > 0)) || fail "published score printed nothing"
  out="$(cd "$work/elsewhere" && "${clean_env[@]}" "$work/publish/alertbroker" demo --nights 1 --model "$model" "$root/../shared/alert-samples" 2>&1)" \
    || fail "published demo: $out"
  [[ "$out" == *"classifications"* ]] || fail "published demo printed no summary: $out"
  log "published CLI ($(du -sh "$work/publish" | cut -f1)): models inspect, score ($lines objects) and demo from another directory"
else
  log "published CLI ($(du -sh "$work/publish" | cut -f1)): models inspect from another directory (no ../shared: score not checked)"
fi

# 2. GPU flavour
start=$SECONDS
dotnet build src/AlertBroker.Cli -c Release -p:OnnxRuntimeFlavour=Gpu -nologo -v q -clp:NoSummary >/dev/null
gpu="$root/src/AlertBroker.Cli/bin/gpu/Release/net10.0/alertbroker"
out="$("$gpu" models inspect "$model" 2>&1)" || fail "GPU build, models inspect on the CPU: $out"
[[ "$(tr -d ' │\n' <<<"$out")" == *"(Microsoft.ML.OnnxRuntime.Gpu,CPU)"* ]] || fail "GPU build did not load the GPU package: $out"
samples="$root/../shared/alert-samples/ztf"
[[ -d "$samples" ]] || samples="$root/models" # no alerts there: with CUDA present, score would exit 1 (nothing scored)
set +e
err="$("$gpu" score --device cuda --model "$model" "$samples" 2>&1 >/dev/null)"
rc=$?
set -e
if ((rc == 0)); then
  log "GPU build ($((SECONDS - start)) s): CUDA is available on this host and was used"
elif ((rc == 3)) && [[ "$err" == "model unusable (execution provider unavailable):"*"CUDA"* ]] && (($(wc -l <<<"$err") == 1)); then
  log "GPU build ($((SECONDS - start)) s): runs on the CPU; --device cuda without CUDA refused (exit 3): ${err:0:160}…"
else
  fail "GPU build, --device cuda: exit $rc, expected 0 (CUDA present) or 3 with one line: $err"
fi

# 3. the container image's publish: the Dockerfile's own command, on a copy of the files its build context lets through,
#    then the image's program run from another directory (the runtime stage is Debian 12, as here)
start=$SECONDS
publish="$(grep -o 'dotnet publish src/AlertBroker.Cli/AlertBroker.Cli.csproj [^\\]*-o /app' Dockerfile)" || fail "no dotnet publish … -o /app in the Dockerfile"
mkdir "$work/context"
tar -C "$root" --exclude='bin' --exclude='obj' -cf - global.json Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig schemas src \
  | tar -C "$work/context" -xf -
(cd "$work/context" && ${publish% -o /app} -o "$work/image-app" -nologo -v q >/dev/null) || fail "the Dockerfile's publish: ${publish}"
ls "$work/image-app"/libonnxruntime.so* "$work/image-app"/*librdkafka*.so* >/dev/null || fail "the image's publish output lacks a native library"
inputs=()
[[ -d "$root/../shared/alert-samples" ]] && inputs=("$root/../shared/alert-samples")
out="$(cd "$work/elsewhere" && "${clean_env[@]}" "$work/image-app/alertbroker" demo --nights 1 --model "$model" "${inputs[@]}" 2>&1)" \
  || fail "the image's program, demo: $out"
[[ "$out" == *"classifications"* ]] || fail "the image's program, demo printed no summary: $out"
log "the Dockerfile's self-contained publish ($((SECONDS - start)) s, $(du -sh "$work/image-app" | cut -f1)): demo from another directory (librdkafka and ONNX Runtime from its own folder)"
rm -rf "$work/context" "$work/image-app"
