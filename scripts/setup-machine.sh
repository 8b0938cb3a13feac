#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian 12 machine (as root), only what is missing,
# and mounts tracefs when it is empty. Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(bpftrace openssh-server openssh-client sudo g++ clang libc++-dev libc++abi-dev universal-ctags chromium libkrb5-dev ripgrep binutils iproute2 procps psmisc bpftool socat nginx tmux fish tcsh wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
  else
    echo "setup: installing ${missing[*]}"
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

if [[ $(id -u) -eq 0 && -d /sys/kernel/tracing && -z "$(ls -A /sys/kernel/tracing 2>/dev/null)" ]]; then
  mount -t tracefs nodev /sys/kernel/tracing || echo "setup: could not mount tracefs" >&2
fi
