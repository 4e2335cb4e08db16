#!/usr/bin/env bash
# The process-level fault suite (issue 12): a real `alertbroker run` against librdkafka's mock cluster and a real
# redis-server, fed good alerts and a poison mix, killed with SIGKILL mid-stream, Redis restarted with and without
# persistence, stopped with SIGTERM; prints the report (alerts in, classifications out, lost, duplicated, dead letters
# by kind, state consistency). Also part of eng/test.sh (test category Fault of AlertBroker.Cli.Tests).
# Usage: bash eng/fault-suite.sh [report-file]
set -euo pipefail
cd "$(dirname "$0")/.."
export AB_FAULT_REPORT="${1:-${TMPDIR:-/tmp}/alertbroker-fault-report.txt}"
dotnet test tests/AlertBroker.Cli.Tests -c Release --filter "Category=Fault" --logger "console;verbosity=normal"
echo "--- fault suite report ($AB_FAULT_REPORT) ---"
cat "$AB_FAULT_REPORT"
