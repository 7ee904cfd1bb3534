#!/usr/bin/env bash
# Where an idle lab's CPU goes, per component, so two commits can be compared side by side. Usage:
#   bench/lab-idle-cpu.sh [SECONDS=60] [SETTLE=60] [EXE=src/KubeCaRotate.Cli/bin/Debug/net10.0/kube-ca-rotate]
# Brings up a default lab (3 control planes + 2 workers, `lab up`'s default namespaces) in a temporary directory and
# prints:
#   - the CPU seconds of `lab up` itself (GNU time: the command and the children it waited for) and of every lab
#     process alive when it returned (their CPU so far: start-up until ready), and their sum;
#   - after SETTLE seconds, the CPU seconds (utime+stime from /proc/PID/stat) each lab process used over SECONDS,
#     one line per process sorted by CPU, then per component (process kind), then the total;
#   - the CPU seconds of one `kube-ca-rotate verify --inventory DIR/inventory.yaml` (GNU time).
# A lab process is any process whose command line names the lab directory (components, agents, workload pods,
# aggregator, etcd, prober, load balancer). CPU seconds depend less on the rest of the machine than wall time, but not
# nothing: `lab up` measured 28-35 CPU s at a load average of ~40 and 13-16 at ~4 (thread pool spinning, cache misses),
# and a single idle process varies by +-30 % between runs; compare commits on runs made side by side under similar load.
# The lab is brought down and its directory removed at the end. Never part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
WINDOW=${1:-60}
SETTLE=${2:-60}
EXE=${3:-src/KubeCaRotate.Cli/bin/Debug/net10.0/kube-ca-rotate}
[ -x "$EXE" ] || { echo "build first: dotnet build src/KubeCaRotate.Cli ($EXE is missing)" >&2; exit 2; }
DIR=$(mktemp -d /tmp/kcr-idle-XXXXXX)
rmdir "$DIR"
OUT=$(mktemp -d /tmp/kcr-idle-out-XXXXXX)
trap '"$EXE" lab down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR" "$OUT"' EXIT
TICKS=$(getconf CLK_TCK)

# "kind pid ticks" for every live lab process, read in one pass so the two samples are taken quickly; kind is the
# component and node (kube-apiserver/cp-1, agent/worker-1, etcd/cp-2, pod/worker-1 for the aggregator, prober, ...)
sample() {
  python3 - "$DIR" <<'PY'
import os, sys
lab = sys.argv[1]
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        args = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace").split("\0")
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    if not any(lab in a for a in args):
        continue
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    node, what = "", ""
    for i, a in enumerate(args):
        nxt = args[i + 1] if i + 1 < len(args) else ""
        if a in ("--node", "--name"): node = nxt
        elif a.startswith("--name="): node = a[7:]
        elif a == "component" and not what: what = nxt
        elif a == "agent" and not what: what = "agent"
        elif a == "--pod": what = "pod"
    if os.path.basename(args[0]) == "etcd": what = "etcd"
    if not what: what = "-".join(args[1:3]) or os.path.basename(args[0])
    print(f"{what}/{node}" if node else what, pid, ticks)
PY
}

/usr/bin/time -f '%U %S' -o "$OUT/up.time" "$EXE" lab up --dir "$DIR" >/dev/null
up_self=$(awk '{print $1 + $2}' "$OUT/up.time")
up_procs=$(sample | awk -v t="$TICKS" '{s += $3} END {printf "%.1f", s / t}')
echo "lab up: $up_self CPU s in the lab up process + $up_procs CPU s in the lab processes until ready = $(echo "$up_self + $up_procs" | bc) CPU s"

sleep "$SETTLE"
sample | sort -k2 >"$OUT/before"
sleep "$WINDOW"
sample | sort -k2 >"$OUT/after"
echo
echo "idle lab, CPU seconds over $WINDOW s (after $SETTLE s settling):"
join -1 2 -2 2 "$OUT/before" "$OUT/after" |
  awk -v t="$TICKS" '{ printf "%-44s %7.2f\n", $2, ($5 - $3) / t }' | sort -k2 -n -r >"$OUT/per-process"
sed 's/^/  /' "$OUT/per-process"
echo
echo "per component (processes, CPU s, cores on average):"
awk -v w="$WINDOW" '
  { k = $1; sub(/\/.*/, "", k); sub(/ .*/, "", k); n[k]++; s[k] += $2; total += $2 }
  END { for (k in s) printf "  %-28s %3d %8.2f %6.3f\n", k, n[k], s[k], s[k] / w
        printf "  %-28s %3s %8.2f %6.3f\n", "TOTAL", "", total, total / w > "/dev/stderr" }' "$OUT/per-process" 2>"$OUT/total" |
  sort -k3 -n -r
cat "$OUT/total"

echo
/usr/bin/time -f '%U %S %e' -o "$OUT/verify.time" "$EXE" verify --inventory "$DIR/inventory.yaml" >/dev/null 2>&1 || true
awk '{printf "verify --inventory: %.2f CPU s (user %.2f, sys %.2f), %.1f s wall\n", $1 + $2, $1, $2, $3}' "$OUT/verify.time"
