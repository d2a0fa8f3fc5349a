#!/usr/bin/env bash
# First contact, checked: makes a fresh Debian 12 machine (a debootstrap
# minbase root plus git, and systemd to boot it), boots it in a container with
# its own network namespace (and so its own RabbitMQ), clones this
# repository's committed HEAD into it and runs README.md's commands exactly
# as written there: the demo, the installation (make deb, apt install, the
# example unit answering a call, the status check) and, with FRESH_TEST=1,
# the test command. Each step is timed. Needs root; leaves nothing behind but
# the cached root in /var/cache/rabbitmq-consumer-fresh.
#
# The container reaches Debian's and Go's package servers (DNS, HTTP, HTTPS)
# through NAT on a veth pair; it cannot reach the host itself, whose broker
# stays untouched.
set -euo pipefail
# The whole script is one function, read before it runs: the clone may
# change under it.
main() {
[ "$(id -u)" = 0 ] || { echo "fresh-machine: needs root (debootstrap, systemd-nspawn, nft)" >&2; exit 1; }
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
common=$(cd "$repo" && cd "$(git rev-parse --git-common-dir)" && pwd)

step_start=0
step() { step_start=$(date +%s%N); echo; echo "=== $*"; }
took() { local ms=$(( ($(date +%s%N) - step_start) / 1000000 )); printf '=== took %d.%03ds\n' $((ms / 1000)) $((ms % 1000)); }
t0=$(date +%s)

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v nft >/dev/null || need+=(nftables)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The commands of one ```sh block of a document: the first after the
# heading that starts with $1, in the clone's README.md or in its file $2.
readme_block() {
  awk -v h="$1" 'index($0, h) == 1 { s = 1; next } s == 1 && /^```sh$/ { s = 2; next } s == 2 && /^```$/ { exit } s == 2 { print }' "$clone/${2:-README.md}"
}

include=systemd,systemd-sysv,dbus,git
cache=/var/cache/rabbitmq-consumer-fresh
key=$(printf 'bookworm minbase %s' "$include" | sha256sum | cut -c1-12)
root="$cache/rootfs-$key"
step "a fresh Debian 12 root: debootstrap --variant=minbase --include=$include bookworm (cached in $root)"
if [ ! -x "$root/usr/lib/systemd/systemd" ]; then
  mkdir -p "$cache"
  rm -rf "$root.tmp"
  debootstrap --variant=minbase --include="$include" bookworm "$root.tmp" http://deb.debian.org/debian >/dev/null
  # What Debian's installer writes and debootstrap does not: the machine's
  # name, resolvable (RabbitMQ's node is rabbit@<hostname>).
  echo debian >"$root.tmp/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root.tmp/etc/hosts"
  mv "$root.tmp" "$root"
else
  echo "cached"
fi
took

# The certificates of the host's CA bundle that Debian's ca-certificates
# does not ship.
local_cas() {
  local bundle=/etc/ssl/certs/ca-certificates.crt d=$work/cas known f
  [ -s "$bundle" ] || return 0
  mkdir -p "$d"
  known=$(for f in /usr/share/ca-certificates/mozilla/*.crt; do openssl x509 -in "$f" -noout -fingerprint -sha256; done)
  awk -v d="$d" '/BEGIN CERTIFICATE/ { n++ } n { print > (d "/" n ".pem") }' "$bundle"
  for f in "$d"/*.pem; do
    grep -qxF "$(openssl x509 -in "$f" -noout -fingerprint -sha256)" <<<"$known" || cat "$f"
  done
}

name=rcf$$
net=10.250.$(( $$ % 250 )).
work=$(mktemp -d /var/tmp/rabbitmq-consumer-fresh.XXXXXX)
nspawn_pid= leader= fwd_was=$(sysctl -n net.ipv4.ip_forward)
cleanup() {
  status=$?
  set +e
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    echo "=== powering the container off through its init (SIGRTMIN+4 to its PID 1) and waiting"
    [ -n "$leader" ] && kill -s RTMIN+4 "$leader" 2>/dev/null
    for _ in $(seq 1 600); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$nspawn_pid" 2>/dev/null; then
      echo "fresh-machine: the container did not power off within 60s; killing it" >&2
      [ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null
      kill -KILL "$nspawn_pid" 2>/dev/null
    fi
    wait "$nspawn_pid" 2>/dev/null
  fi
  nft delete table ip "$name" 2>/dev/null
  sysctl -q -w net.ipv4.ip_forward="$fwd_was"
  rm -rf "$work"
  printf '=== total %ds, exit status %d\n' "$(( $(date +%s) - t0 ))" "$status"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "boot it: a copy of the root, systemd as PID 1, a private network namespace"
cp -a "$root" "$work/root"
# The host's own trust anchors (a site CA, a TLS-intercepting proxy's),
# which every machine on its network needs: where Debian's ca-certificates
# takes local CAs, so it adds them when it is installed. Not the project's.
local_cas >"$work/local.crt"
if [ -s "$work/local.crt" ]; then
  install -D -m 0644 "$work/local.crt" "$work/root/usr/local/share/ca-certificates/host-local.crt"
  echo "the host's local CAs:" $(openssl crl2pkcs7 -nocrl -certfile "$work/local.crt" | openssl pkcs7 -print_certs -noout | grep '^subject')
fi
systemd-nspawn -D "$work/root" --boot --register=no --keep-unit -M "$name" \
  --network-veth --resolv-conf=copy-host \
  --bind-ro="$repo" --bind-ro="$common" --console=pipe --quiet >"$work/console.log" 2>&1 &
nspawn_pid=$!
for _ in $(seq 1 600); do
  for c in $(cat "/proc/$nspawn_pid/task/$nspawn_pid/children" 2>/dev/null); do
    [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && leader=$c
  done
  [ -n "$leader" ] && break
  kill -0 "$nspawn_pid" 2>/dev/null || { cat "$work/console.log"; echo "fresh-machine: the container did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$leader" ] || { echo "fresh-machine: the container did not start within 60s" >&2; exit 1; }
in_ct() { nsenter -t "$leader" -m -u -i -n -p -r -w -- /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
for _ in $(seq 1 600); do
  s=$(in_ct systemctl is-system-running 2>/dev/null || true)
  [ "$s" = running ] || [ "$s" = degraded ] && break
  sleep 0.1
done
echo "systemd in the container: $s"

# Network: the host end of the veth gets ${net}1, the container's ${net}2;
# NAT lets the container out to DNS, HTTP and HTTPS, never to the host.
veth=$(ip -o link show | awk -F': ' -v n="ve-$name" '{ sub(/@.*/, "", $2) } $2 == n { print $2 }')
[ -n "$veth" ] || { echo "fresh-machine: no host end ve-$name of the container's veth" >&2; exit 1; }
ip addr add "${net}1/30" dev "$veth"
ip link set "$veth" up
nsenter -t "$leader" -n ip addr add "${net}2/30" dev host0
nsenter -t "$leader" -n ip link set host0 up
nsenter -t "$leader" -n ip route add default via "${net}1"
sysctl -q -w net.ipv4.ip_forward=1
nft -f - <<NFT
table ip $name {
  chain input { type filter hook input priority -10; iifname "$veth" drop; }
  chain forward {
    type filter hook forward priority -10;
    iifname "$veth" udp dport 53 accept
    iifname "$veth" tcp dport { 53, 80, 443 } accept
    oifname "$veth" ct state established,related accept
    iifname "$veth" drop
    oifname "$veth" drop
  }
  chain postrouting { type nat hook postrouting priority 100; ip saddr ${net}0/30 oifname != "$veth" masquerade; }
}
NFT
echo "container $name: ${net}2 behind $veth; packages it has: $(in_ct dpkg-query -f '.' -W | wc -c)"
took

# A command line as root types it in /root/rabbitmq-consumer, run by the
# container's systemd (its own cgroup, delegated for the system test's
# nested container), with its output here. Its input says yes to every
# question, as the operator would (apt install asks before adding packages).
run_ct() {
  echo "# $1"
  { yes || true; } | in_ct systemd-run --quiet --wait --pipe --collect --service-type=exec -p Delegate=yes \
    -p WorkingDirectory=/root/rabbitmq-consumer --setenv=HOME=/root bash -c "$1"
}

rev=$(git -C "$repo" rev-parse --short "${FRESH_REV:-HEAD}")
step "git clone (the repository's committed ${FRESH_REV:-HEAD}, $rev)"
in_ct git clone -q "$repo" /root/rabbitmq-consumer
in_ct git -C /root/rabbitmq-consumer checkout -q "$rev"
took
clone="$work/root/root/rabbitmq-consumer"
quick=$(readme_block "## Quick start")
install=$(readme_block "## Installation")
logs=$(readme_block "## Logs" docs/operations.md)
[ "$(echo "$quick" | grep -c .)" = 2 ] || { echo "fresh-machine: README.md's quick start is not two commands:" >&2; echo "$quick" >&2; exit 1; }
demo_cmd=$(echo "$quick" | sed -n 1p)
test_cmd=$(echo "$quick" | sed -n 2p)

step "README quick start: $demo_cmd"
run_ct "$demo_cmd"
took

step "README installation, line by line"
while IFS= read -r line; do
  [ -n "$line" ] || continue
  case "$line" in \#*) continue ;; esac
  step "$line"
  out=$(run_ct "$line")
  echo "$out"
  # A line with the program's output as its comment must print just that.
  case "$line" in rabbitmq-consumer-status*\#*)
    want=$(echo "$line" | sed 's/^[^#]*# //')
    [ "$(echo "$out" | sed -n 2p)" = "$want" ] || { echo "fresh-machine: README.md says the status check prints: $want" >&2; exit 1; }
  esac
  took
done <<<"$install"

step "docs/operations.md's log commands, for the virtual host example"
while IFS= read -r line; do
  line=${line//@trees/@example}
  out=$(run_ct "$line")
  echo "$out" | head -5
  case "$line" in journalctl*) [ -n "$out" ] || { echo "fresh-machine: no log lines" >&2; exit 1; } ;; esac
done <<<"$logs"
echo "(what -t leaves out, and would break jq: the lines of journalctl -u rabbitmq-consume@example -o cat that are not JSON)"
in_ct sh -c "journalctl -u rabbitmq-consume@example -o cat | grep -v '^{'" || true
took

if [ "${FRESH_TEST:-}" = 1 ]; then
  step "README quick start: $test_cmd"
  run_ct "$test_cmd"
  took
fi

step "what the commands left on the machine"
in_ct sh -c 'echo "systemd-nspawn processes (the system test'"'"'s containers): $(ps -eo comm | grep -c "^systemd-nspawn")"
  echo "virtual hosts: $(rabbitmqctl -q list_vhosts --no-table-headers name | tr "\n" " ")"
  echo "apt sources added: $(ls /etc/apt/sources.list.d/)"
  du -sh /root/go /root/.cache/go-build /var/cache/rabbitmq-consumer-systemtest 2>/dev/null || true'
took
}
main "$@"; exit $? # on one line: read before main runs
