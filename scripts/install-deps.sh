#!/usr/bin/env bash
# Installs what the tool's lab and its tests need from Debian: real etcd (server + etcdctl),
# openssl, curl, openssh-server and sudo (the SSH node tests start their own sshd on loopback).
# kubectl and the .NET SDK come with the machine image.
set -euo pipefail
need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v sudo >/dev/null 2>&1 || need+=(sudo)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need ${need[*]} and root to install them with apt-get" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # No package may start its daemon (a system sshd on 0.0.0.0:22, a system etcd on 2379): servers here listen on loopback
  # only, and the tests start their own. policy-rc.d answering 101 is Debian's way to say so (invoke-rc.d honours it).
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && made_policy=1; fi
  trap '[ -n "$made_policy" ] && rm -f "$policy"' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian's etcd-server package starts a system etcd on 2379/2380; the lab runs its own members. Only right after
  # installing it: otherwise an etcd running now may be a lab's member.
  if [[ " ${need[*]} " == *" etcd-server "* ]]; then
    if command -v systemctl >/dev/null 2>&1; then systemctl stop etcd >/dev/null 2>&1 || true; systemctl disable etcd >/dev/null 2>&1 || true; fi
    pkill -x etcd >/dev/null 2>&1 || true
  fi
  if [[ " ${need[*]} " == *" openssh-server "* ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl stop ssh >/dev/null 2>&1 || true; systemctl disable ssh >/dev/null 2>&1 || true
  fi
fi
