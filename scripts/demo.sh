#!/usr/bin/env bash
# The main job, end to end: a consumer for virtual host "demo" on the local
# RabbitMQ with the example handler dx_example, answering real RPC calls
# made with rabbitmq-rpc.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
export PATH="/usr/local/go/bin:$PATH"
make --no-print-directory build >/dev/null

# The virtual host is deleted afterwards, unless it was there before.
vhost=demo
made_vhost=
if ! rabbitmqctl -q list_vhosts name | grep -qx "$vhost"; then
  rabbitmqctl -q add_vhost "$vhost"
  made_vhost=1
fi
rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*'

work=$(mktemp -d)
consumer_pid=
cleanup() {
  [ -n "$consumer_pid" ] && kill "$consumer_pid" 2>/dev/null || true
  [ -n "$made_vhost" ] && rabbitmqctl -q delete_vhost "$vhost" || true
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/rabbitmq.yml" <<YAML
handlers_directory: $PWD/examples/handlers
spool_directory: $work/spool
state_directory: $work/state
server: {host: 127.0.0.1, port: 5672, username: guest, password: guest, ssl: false}
virtual_hosts:
  $vhost:
    queue: $vhost
    max_simultaneous_requests: 5
    exchanges:
      dx_example: {type: direct}
YAML

echo "==> starting: rabbitmq-consumer --virtual-host-name $vhost --config-file-path $work/rabbitmq.yml"
bin/rabbitmq-consumer --virtual-host-name "$vhost" --config-file-path "$work/rabbitmq.yml" --log-format console 2>"$work/consumer.log" &
consumer_pid=$!
for _ in $(seq 1 300); do
  grep -q "consuming" "$work/consumer.log" && break
  kill -0 "$consumer_pid" 2>/dev/null || { cat "$work/consumer.log"; echo "demo: the consumer exited" >&2; exit 1; }
  sleep 0.1
done
grep -q "consuming" "$work/consumer.log" || { cat "$work/consumer.log"; echo "demo: the consumer did not start consuming within 30s" >&2; exit 1; }

call() {
  echo
  echo "==> rabbitmq-rpc --exchange dx_example '$1'"
  set +e
  bin/rabbitmq-rpc --config-file-path "$work/rabbitmq.yml" --virtual-host-name "$vhost" --exchange dx_example --timeout 30s "$1"
  echo "(exit status $?)"
  set -e
}
call '{"favourite_food": "onion", "chance_percentage": 100}'
call '{"favourite_food": "kale"}'

echo
echo "==> stopping the consumer with SIGTERM"
kill -TERM "$consumer_pid"
status=0
wait "$consumer_pid" || status=$?
consumer_pid=
echo "consumer exited with status $status; its log:"
cat "$work/consumer.log"
