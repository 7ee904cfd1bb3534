#!/usr/bin/env bash
# CPU cost of a running lab with its prober, as issue 4 asks: 3 control planes + 2 workers + 50 namespaces must
# average under one core. Usage: bench/lab-cpu.sh [SECONDS=60] [NAMESPACES=50]
# Brings a lab up in a temporary directory, lets it settle, sums utime+stime (from /proc/PID/stat) of every lab
# process (every pid file under DIR/run: node agents with their kubelets and workload pods, static pods, endpoint,
# prober) at the start and the end of the window, prints cores used on average (total and per process), and brings
# the lab down. Never part of the test suite: the number depends on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_WINDOW=${1:-60}
NAMESPACES=${2:-50}
dotnet build src/KubeCaRotate.Cli -nologo -v quiet >/dev/null
EXE=src/KubeCaRotate.Cli/bin/Debug/net10.0/kube-ca-rotate
DIR=$(mktemp -d /tmp/kcr-bench-XXXXXX)
rmdir "$DIR"
trap '"$EXE" lab down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
"$EXE" lab up --dir "$DIR" --control-planes 3 --workers 2 --namespaces "$NAMESPACES" >/dev/null
sleep 20 # pods start, edges are discovered

TICKS=$(getconf CLK_TCK)
# name pid ticks, one line per live lab process
sample() {
  find "$DIR/run" -name '*.pid' | sort | while read -r f; do
    pid=$(head -n1 "$f" | tr -dc '0-9')
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || continue
    # fields after the ")" of the command name: utime is field 14, stime 15 of the whole line
    ticks=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
    echo "${f#"$DIR/run/"} $pid $ticks"
  done
}
before=$(sample)
sleep "$SECONDS_WINDOW"
after=$(sample)
attempts=$(awk -v since="$(date -u -d "-$SECONDS_WINDOW seconds" +%Y-%m-%dT%H:%M:%S)" -F'"time":"' 'NF>1 && substr($2,1,19) >= since' "$DIR/probe.jsonl" | wc -l)
edges=$(grep -o '"edge":"[^"]*"' "$DIR/probe.jsonl" | sort -u | wc -l)
join <(echo "$before" | awk '{print $1"@"$2, $3}' | sort) <(echo "$after" | awk '{print $1"@"$2, $3}' | sort) |
  awk -v t="$TICKS" -v s="$SECONDS_WINDOW" -v a="$attempts" -v e="$edges" '
    { d = ($3 - $2) / t / s; total += d; split($1, p, "@"); printf "  %-40s %.3f cores\n", p[1], d }
    END { printf "lab with prober: %.3f cores on average over %d s (%d probe attempts on %d edges)\n", total, s, a, e;
          if (total >= 1) { print "ABOVE the one-core budget"; exit 1 } }'
