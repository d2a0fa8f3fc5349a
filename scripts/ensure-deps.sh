#!/usr/bin/env bash
# Installs and starts what the project's commands need on a Debian 12
# machine: a Go toolchain, a running RabbitMQ on 127.0.0.1:5672 (guest/guest),
# python3 for the example handler and stunnel4 for the TLS tests. Safe to run again: it only does what is missing.
set -euo pipefail

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-deps: $* needs root; run as root or install it first" >&2
    exit 1
  fi
}

apt_updated=
apt_install() {
  need_root "installing $*"
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Go: the module needs a current toolchain; Debian 12's golang is too old.
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
if ! command -v go >/dev/null; then
  echo "ensure-deps: no Go toolchain found; installing golang from bookworm-backports" >&2
  need_root "installing Go"
  if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" >/etc/apt/sources.list.d/backports.list
  fi
  apt-get update -qq; apt_updated=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports golang-go >/dev/null
  # go.mod names the toolchain; GOTOOLCHAIN=auto fetches it through the module proxy.
fi


if ! command -v rabbitmq-server >/dev/null && [ ! -x /usr/sbin/rabbitmq-server ]; then
  echo "ensure-deps: installing rabbitmq-server" >&2
  apt_install rabbitmq-server
fi
if ! command -v python3 >/dev/null; then
  echo "ensure-deps: installing python3 (the example handler is a Python script)" >&2
  apt_install python3
fi
if ! command -v stunnel4 >/dev/null && ! command -v stunnel >/dev/null; then
  echo "ensure-deps: installing stunnel4 (TLS tests)" >&2
  apt_install stunnel4
fi

if ! rabbitmqctl -q status >/dev/null 2>&1; then
  echo "ensure-deps: starting RabbitMQ" >&2
  need_root "starting RabbitMQ"
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl start rabbitmq-server
  else
    rabbitmq-server -detached
  fi
fi
rabbitmqctl -q await_startup >/dev/null
# A test that stopped the app may have been killed before its clean-up ran.
rabbitmqctl -q start_app >/dev/null 2>&1 || true
