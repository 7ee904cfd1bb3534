#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the tool's main job on the built-in lab cluster:
# `kube-ca-rotate demo` brings a 3-control-plane, 2-worker kubeadm lab up, rotates its cluster, front-proxy and etcd
# CAs (start, then complete) while the lab's prober checks every connection, prints the prober's report with the
# downtime figure, and brings the lab down. It exits 0 only when the rotation completed with no trust failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
dotnet build src/KubeCaRotate.Cli -nologo -v quiet
exe=src/KubeCaRotate.Cli/bin/Debug/net10.0/kube-ca-rotate
dir=$(mktemp -d)
cleanup() { "$exe" lab down --dir "$dir/lab" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
"$exe" demo --dir "$dir/lab" --control-planes 3 --workers 2 --namespaces 3
