#!/bin/sh
# Builds the example handler package:
#   examples/handler-package/build.sh [VERSION] [OUTDIR]
# A handler package is nothing but the handler's directory under
# /usr/lib/rabbitmq-consumer/handlers and a control file: installing,
# upgrading or removing it fires rabbitmq-consumer's trigger, which restarts
# the consumers. No maintainer script is needed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
version=${1:-1.0}
out=${2:-$here/../../dist}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
mkdir -p "$stage/DEBIAN" "$stage/usr/lib/rabbitmq-consumer/handlers/dx_example" "$out"
sed "s/@VERSION@/$version/" "$here/DEBIAN/control" >"$stage/DEBIAN/control"
install -m 0755 "$here/../handlers/dx_example/handler" "$stage/usr/lib/rabbitmq-consumer/handlers/dx_example/handler"
install -m 0644 "$here/../handlers/dx_example/contract.json" "$stage/usr/lib/rabbitmq-consumer/handlers/dx_example/contract.json"
dpkg-deb --root-owner-group --build "$stage" "$out/rabbitmq-consumer-handler-dx-example_${version}_all.deb" >/dev/null
echo "$out/rabbitmq-consumer-handler-dx-example_${version}_all.deb"
