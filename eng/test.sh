#!/usr/bin/env bash
# Runs every test: setup (idempotent), build, then the xunit suites.
# Integration tests start their own services (redis-server on a free loopback port, librdkafka's mock cluster).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash eng/setup.sh
dotnet build AlertBroker.sln -c Release --no-restore -nologo -clp:NoSummary
dotnet test AlertBroker.sln -c Release --no-build --nologo "$@"
