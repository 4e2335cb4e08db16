#!/usr/bin/env bash
# Runs every test: setup (idempotent), build, then the xunit suites, and ends with one
# "N passed, N failed, N skipped" line summed over the test projects.
# Integration tests start their own services (redis-server on a free loopback port, librdkafka's mock cluster).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash eng/setup.sh

# Every project must be in the solution, or its tests would silently not run.
missing="$(comm -23 <(find src tests benchmarks -name '*.csproj' | sort) <(dotnet sln AlertBroker.sln list | grep '\.csproj$' | sort))"
if [[ -n "$missing" ]]; then
  echo "not in AlertBroker.sln (add with 'dotnet sln AlertBroker.sln add …'):" >&2
  echo "$missing" >&2
  exit 1
fi
dotnet build AlertBroker.sln -c Release --no-restore -nologo -clp:NoSummary
# ONNX Runtime: the published CLI finds its native library; the GPU flavour builds and refuses CUDA it cannot have.
bash eng/check-onnxruntime.sh
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test AlertBroker.sln -c Release --no-build --nologo "$@" 2>&1 | tee "$log" || status=$?
awk '/^(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:")  f += $(i + 1)
         if ($i == "Passed:")  p += $(i + 1)
         if ($i == "Skipped:") s += $(i + 1)
       }
     }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
