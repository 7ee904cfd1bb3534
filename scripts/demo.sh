#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the tool's main job on the built-in lab cluster.
# Today: a 3-control-plane, 2-worker kubeadm lab comes up, kubectl and the tool read it, and it goes down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
dotnet build src/KubeCaRotate.Cli -nologo -v quiet
exe=src/KubeCaRotate.Cli/bin/Debug/net10.0/kube-ca-rotate
dir=$(mktemp -d)
cleanup() { "$exe" lab down --dir "$dir/lab" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
"$exe" lab up --dir "$dir/lab" --control-planes 3 --workers 2
kubectl --kubeconfig "$dir/lab/admin.conf" get nodes
kubectl --kubeconfig "$dir/lab/admin.conf" get secrets -A --field-selector type=kubernetes.io/service-account-token
"$exe" pki inspect --dir "$dir/lab/nodes/cp-2/etc/kubernetes"
"$exe" lab down --dir "$dir/lab"
