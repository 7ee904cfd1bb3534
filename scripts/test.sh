#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
dotnet build KubeCaRotate.slnx -warnaserror -nologo -v quiet
log=$(mktemp)
set +e
dotnet test KubeCaRotate.slnx --no-build -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line that any CI can read: "N passed, N failed".
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
