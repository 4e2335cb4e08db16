#!/usr/bin/env bash
# One idempotent setup for a fresh Debian 12 machine with the .NET SDK and npm:
# apt packages and NuGet restore (ONNX Runtime comes from NuGet: Microsoft.ML.OnnxRuntime).
# A second run finds everything in place and only re-checks (seconds).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

APT_PACKAGES=(redis-server librdkafka-dev)

log() { printf '[setup] %s\n' "$*"; }

# 1. apt packages: install only what is missing, so a second run never touches apt.
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  log "installing apt packages: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages present: ${APT_PACKAGES[*]}"
fi

# 2. NuGet restore (incremental: a no-op restore takes a few seconds).
log "dotnet restore"
dotnet restore "$root/AlertBroker.sln" --verbosity quiet -nologo
log "done"
