#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the tool's main job on a built-in example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
dotnet build src/KubeCaRotate.Cli -nologo -v quiet
exe=src/KubeCaRotate.Cli/bin/Debug/net10.0/kube-ca-rotate
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$exe" pki init --dir "$dir/cp-1" --node-name cp-1 --advertise-address 127.0.0.11 --control-plane-endpoint 127.0.0.10:6443
"$exe" pki init --dir "$dir/cp-2" --node-name cp-2 --advertise-address 127.0.0.12 --control-plane-endpoint 127.0.0.10:6443 --ca-dir "$dir/cp-1/pki"
"$exe" pki inspect --dir "$dir/cp-2"
