#!/usr/bin/env bash
# What `make bench` needs beyond scripts/ensure-deps.sh: Debian's python3
# with pika (python3-pika), for the reference model (bench/reference-model)
# and the Python handlers (bench/python-echo). Safe to run again: it only
# installs what is missing.
set -euo pipefail

if [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import pika' 2>/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench/ensure-deps: installing python3-pika needs root; run as root or apt-get install python3-pika" >&2
    exit 1
  fi
  echo "bench/ensure-deps: installing python3-pika (the benchmark's reference model)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pika >/dev/null
fi
