#!/usr/bin/env bash
# Installs and starts what the project's commands need on a Debian 12
# machine: a Go toolchain and a C compiler (the race detector, the package's
# binaries), a running RabbitMQ on 127.0.0.1:5672 (guest/guest), python3 for
# the example handler and stunnel4 for the TLS tests. With the argument
# `build`, only what building needs (make deb). Safe to run again: it only
# does what is missing. README.md ("What the commands change") lists it all.
set -euo pipefail
cd "$(dirname "$0")/.."

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

# Go's HTTPS (the toolchain and modules come from proxy.golang.org).
if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then
  echo "ensure-deps: installing ca-certificates" >&2
  apt_install ca-certificates
fi

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
fi
# go.mod names the toolchain (its `go` line). An older go fetches it from
# the Go module proxy into the module cache (GOTOOLCHAIN=auto, the default)
# and runs it; GOTOOLCHAIN=local forbids that.
want=go$(awk '$1 == "go" { print $2; exit }' go.mod)
if ! have=$(go env GOVERSION); then
  echo "ensure-deps: this module needs $want: install it in /usr/local/go (go.dev/dl), or let go fetch it (unset GOTOOLCHAIN, or GOTOOLCHAIN=auto)" >&2
  exit 1
fi
[ "$have" = "$want" ] || echo "ensure-deps: Go toolchain $have (go.mod: $want)" >&2
if ! command -v gcc >/dev/null; then
  echo "ensure-deps: installing gcc (the race detector and the package's binaries use cgo)" >&2
  apt_install gcc libc6-dev
fi
[ "${1:-}" = build ] && exit 0


if ! command -v rabbitmq-server >/dev/null && [ ! -x /usr/sbin/rabbitmq-server ]; then
  echo "ensure-deps: installing rabbitmq-server" >&2
  apt_install rabbitmq-server
fi
if ! command -v python3 >/dev/null; then
  echo "ensure-deps: installing python3 (the example handler is a Python script)" >&2
  apt_install python3
fi
# The persistent-protocol examples of docs/handlers.md are run as they
# stand there: in shell with jq, in Node.js and in Ruby.
missing=()
command -v jq >/dev/null || missing+=(jq)
command -v node >/dev/null || missing+=(nodejs)
command -v ruby >/dev/null || missing+=(ruby)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "ensure-deps: installing ${missing[*]} (the handler examples of docs/handlers.md)" >&2
  apt_install "${missing[@]}"
fi
if ! command -v stunnel4 >/dev/null && ! command -v stunnel >/dev/null; then
  echo "ensure-deps: installing stunnel4 (TLS tests)" >&2
  apt_install stunnel4
fi
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
  # The metrics tests lint every /metrics page with promtool, check the
  # example alerting rules, and scrape a consumer with a Prometheus server
  # of their own (on loopback; Debian's unit is not started by them).
  echo "ensure-deps: installing prometheus (promtool and a server for the metrics tests)" >&2
  apt_install prometheus
fi

if ! command -v man >/dev/null || ! command -v groff >/dev/null; then
  echo "ensure-deps: installing man-db and groff (the man page tests render every page as lintian does)" >&2
  apt_install man-db groff
fi
if ! command -v chromium >/dev/null; then
  echo "ensure-deps: installing chromium (the real-browser tests of the docs server and the log server's web interface)" >&2
  apt_install chromium
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

# PostgreSQL on 127.0.0.1:5432, trust authentication for local connections:
# the log server's store tests create and drop a database of their own.
pg_ready() { psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1 || psql -h 127.0.0.1 -d postgres -Atqc 'select 1' >/dev/null 2>&1; }
if ! pg_ready; then
  if ! command -v pg_ctlcluster >/dev/null; then
    echo "ensure-deps: installing postgresql (the log server's store tests)" >&2
    apt_install postgresql
  fi
  need_root "starting PostgreSQL"
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  if [ -z "$ver" ]; then
    echo "ensure-deps: no PostgreSQL cluster under /etc/postgresql; create one with pg_createcluster" >&2
    exit 1
  fi
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    echo "ensure-deps: PostgreSQL: trusting local TCP connections from 127.0.0.1 ($hba)" >&2
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  echo "ensure-deps: starting PostgreSQL $ver" >&2
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl start "postgresql@$ver-main"
    systemctl reload "postgresql@$ver-main"
  else
    pg_ctlcluster "$ver" main start || pg_ctlcluster "$ver" main reload
  fi
  for _ in $(seq 60); do pg_ready && break; sleep 0.5; done
  pg_ready || { echo "ensure-deps: PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
fi
