#!/usr/bin/env bash
# Reading a big cluster end to end, as issue 5 asks: `kube-ca-rotate verify` and `scan` (-o json) on 3 control planes,
# WORKERS workers and NAMESPACES application namespaces must finish in seconds. Usage:
#   bench/read.sh [WORKERS=50] [NAMESPACES=2000] [RUNS=3]
# A lab of 53 node agents does not fit a 2-core machine, so this brings up a small lab (3 control planes, 2 workers,
# 2 namespaces) and grows it, at the level verify and scan read, with `KubeCaRotate.Bench grow-lab`
# (bench/KubeCaRotate.Bench/LabScaleOut.cs): worker-3..WORKERS get kubeadm's worker files under DIR/nodes/ (their own
# kubelet client certificate from the lab's cluster CA and their own self-signed serving pair, written by the lab's
# provisioner), a Node object, a node Lease and an entry in a copy of the inventory (DIR/inventory-read-bench.yaml);
# lab-3..lab-NAMESPACES get a ServiceAccount, kube-root-ca.crt, a legacy token Secret and one bare Pod bound to an
# added worker with status Running (a Deployment would need a node agent). verify and scan then read every node's
# files through the inventory's node access and every object through paged lists, as on a real cluster.
#
# The added workers run nothing, and verify never connects anywhere: it judges each edge from files and objects. So
# their edges (kubelet -> endpoint, each API server -> kubelet) come out healthy like the lab's own kubelets: the
# kubelet's start time is unknown (their inventory entries' kubeletStartedAt is `true`, which prints no timestamp) and verify then assumes
# it loaded its files as they are on disk. Their pods' edges are healthy too (started after kube-root-ca.crt). No
# node is skipped. A run that exits 0, 1 (broken) or 4 (at risk) counts;
# any other exit code is a crash and stops the benchmark.
#
# Prints, per run, wall and CPU time and max RSS (GNU time, else sampled from /proc), the sizes read (nodes, namespaces,
# edges by kind, CAs and places) so a reader sees the whole cluster was read, then where the time of one read goes
# (`KubeCaRotate.Bench read-phases`: the kubelet start commands, node files, each API list alone, model, scan) and a one-line summary. The lab is
# brought down and its directory removed at the end (KEEP=1 keeps the JSON outputs in a printed directory).
# Never part of the test suite: the numbers depend on the machine and its load.
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS=${1:-50}
NAMESPACES=${2:-2000}
RUNS=${3:-3}
command -v jq >/dev/null || { echo "read.sh needs jq to count what verify and scan read" >&2; exit 2; }
dotnet build bench/KubeCaRotate.Bench -c Release -nologo -v quiet >/dev/null
EXE=src/KubeCaRotate.Cli/bin/Release/net10.0/kube-ca-rotate
BENCH=bench/KubeCaRotate.Bench/bin/Release/net10.0/KubeCaRotate.Bench.dll
DIR=$(mktemp -d /tmp/kcr-read-XXXXXX)
rmdir "$DIR"
OUT=$(mktemp -d /tmp/kcr-read-out-XXXXXX)
cleanup() {
  "$EXE" lab down --dir "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
  if [ "${KEEP:-0}" = 1 ]; then echo "outputs kept in $OUT"; else rm -rf "$OUT"; fi
}
trap cleanup EXIT

start=$(date +%s)
"$EXE" lab up --dir "$DIR" --control-planes 3 --workers 2 --namespaces 2 >/dev/null
echo "lab up: $(( $(date +%s) - start )) s"
dotnet "$BENCH" grow-lab "$DIR" "$WORKERS" "$NAMESPACES"
INVENTORY=$DIR/inventory-read-bench.yaml

# Runs one command with its output to OUT/NAME-RUN.json; prints "SECONDS CPU_SECONDS MAXRSS_KB EXITCODE".
timed() {
  local name=$1 run=$2 rc=0
  local json=$OUT/$name-$run.json err=$OUT/$name-$run.err
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/$name-$run.time" "$EXE" "$name" --inventory "$INVENTORY" -o json >"$json" 2>"$err" || rc=$?
    echo "$(tail -n1 "$OUT/$name-$run.time" | awk '{ printf "%s %.2f %s", $1, $2 + $3, $4 }') $rc"
  else
    local t0 t1 hwm=0 pid ticks=0 h
    t0=$(date +%s.%N)
    "$EXE" "$name" --inventory "$INVENTORY" -o json >"$json" 2>"$err" & pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      h=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
      t=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}' || true)
      [ -n "$t" ] && ticks=$t
      sleep 0.1
    done
    wait "$pid" || rc=$?
    t1=$(date +%s.%N)
    echo "$(awk -v a="$t0" -v b="$t1" -v c="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f %.2f", b - a, c / hz }') $hwm $rc"
  fi
}

declare -A total
for name in verify scan; do total[$name]=0; done
for run in $(seq 1 "$RUNS"); do
  for name in verify scan; do
    read -r secs cpu rss rc < <(timed "$name" "$run")
    if [ "$rc" != 0 ] && [ "$rc" != 1 ] && [ "$rc" != 4 ]; then
      echo "$name run $run exited $rc (a crash, not a verdict):" >&2
      tail -n 20 "$OUT/$name-$run.err" >&2
      exit 1
    fi
    total[$name]=$(awk -v a="${total[$name]}" -v b="$secs" 'BEGIN { print a + b }')
    if [ "$name" = verify ]; then
      sizes=$(jq -r '
        [.edges[] | select(.kind == "kubelet") | .client | split("/")[0]] as $kubelets
        | "nodes \($kubelets | length), pod edges \([.edges[] | select(.kind == "pod")] | length), edges \(.edges | length) ("
          + ([.edges | group_by(.kind)[] | "\(.[0].kind) \(length)"] | join(", ")) + "), "
          + "healthy \([.edges[] | select(.state == "healthy")] | length), at risk \([.edges[] | select(.state == "atRisk")] | length), "
          + "broken \([.edges[] | select(.state == "broken")] | length), problems \(.problems | length)"' "$OUT/$name-$run.json")
    else
      sizes=$(jq -r '
        [.authorities[].places[]] as $places
        | "nodes \([$places[] | .node // empty] | unique | length), namespaces with kube-root-ca.crt \([$places[] | select(.location | test("^ConfigMap [^ ]+/kube-root-ca.crt ")) ] | length), "
          + "CAs \(.authorities | length), places \($places | length), leaves \([.authorities[].leaves[]] | length), problems \(.problems | length)"' "$OUT/$name-$run.json")
    fi
    printf '%-6s run %d: %6.2f s (CPU %.2f s), max RSS %4d MiB, exit %d; %s\n' "$name" "$run" "$secs" "$cpu" $(( rss / 1024 )) "$rc" "$sizes"
  done
done
echo "where the time goes (one read in one process, each API list alone):"
dotnet "$BENCH" read-phases "$INVENTORY"
printf 'read benchmark (3 control planes, %d workers, %d namespaces, %d runs): verify %.2f s, scan %.2f s on average\n' \
  "$WORKERS" "$NAMESPACES" "$RUNS" "$(awk -v a="${total[verify]}" -v n="$RUNS" 'BEGIN { print a / n }')" "$(awk -v a="${total[scan]}" -v n="$RUNS" 'BEGIN { print a / n }')"
