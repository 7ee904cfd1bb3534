#!/usr/bin/env bash
# Benchmarks, run on demand (never in the test suite). Usage:
#   bench/run.sh api [SECONDS] [CONCURRENCY]   requests/s of the lab API server stand-in: GET and PATCH side by side
#   bench/run.sh trust [--quick [--namespaces N]]   verify, scan and a what-if on 3 control planes, 50 workers, 2,000 (N) namespaces (in-memory snapshot)
#   bench/run.sh read [WORKERS] [NAMESPACES] [RUNS]   the CLI's verify and scan reading a lab grown to that size, end to end (bench/read.sh)
# Results go to stdout; compare runs of two commits side by side on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if [ "${1:-}" = read ]; then shift; exec bash bench/read.sh "$@"; fi
dotnet build bench/KubeCaRotate.Bench -c Release -nologo -v quiet
exec dotnet bench/KubeCaRotate.Bench/bin/Release/net10.0/KubeCaRotate.Bench.dll "$@"
