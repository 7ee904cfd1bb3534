#!/usr/bin/env bash
# Benchmarks, run on demand (never in the test suite). Usage:
#   bench/run.sh api [SECONDS] [CONCURRENCY]   requests/s of the lab API server stand-in: GET and PATCH side by side
#   bench/run.sh trust [--quick]               verify, scan and a what-if on 3 control planes, 50 workers, 2,000 namespaces (in-memory snapshot)
# Results go to stdout; compare runs of two commits side by side on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
dotnet build bench/KubeCaRotate.Bench -c Release -nologo -v quiet
exec dotnet bench/KubeCaRotate.Bench/bin/Release/net10.0/KubeCaRotate.Bench.dll "$@"
