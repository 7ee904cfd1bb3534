#!/usr/bin/env bash
# The whole machine's CPU seconds (from /proc/stat, so processes that start and exit count too) for `lab up` of a
# 3 + 2 lab, then for its first and second 30 s idle, then the lab goes down. Usage:
#   bench/lab-start-cpu.sh [NAME] [VAR=VALUE ...]   (environment for `lab up` and so for every lab process)
# e.g. compare runtime settings side by side:
#   bench/lab-start-cpu.sh base; bench/lab-start-cpu.sh pgo DOTNET_TieredPGO=1
# Run it on an otherwise idle machine: anything else running counts too. Never part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
EXE=${EXE:-src/KubeCaRotate.Cli/bin/Debug/net10.0/kube-ca-rotate}
[ -x "$EXE" ] || { echo "build first: dotnet build src/KubeCaRotate.Cli ($EXE is missing)" >&2; exit 2; }
NAME=${1:-run}; shift || true
DIR=$(mktemp -d /tmp/kcr-startcpu-XXXXXX); rmdir "$DIR"
trap '"$EXE" lab down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
ticks=$(getconf CLK_TCK)
b0=$(busy); t0=$(date +%s.%N)
env "$@" "$EXE" lab up --dir "$DIR" --control-planes 3 --workers 2 --namespaces 2 >/dev/null
b1=$(busy); t1=$(date +%s.%N)
sleep 30; b2=$(busy); sleep 30; b3=$(busy)
awk -v n="$NAME" -v t="$ticks" -v b0="$b0" -v b1="$b1" -v b2="$b2" -v b3="$b3" -v t0="$t0" -v t1="$t1" 'BEGIN {
  printf "%s: lab up %.1f CPU s in %.1f s; idle 0-30 s %.1f CPU s; idle 30-60 s %.1f CPU s\n", n, (b1-b0)/t, t1-t0, (b2-b1)/t, (b3-b2)/t }'
