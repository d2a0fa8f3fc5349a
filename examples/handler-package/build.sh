#!/bin/sh
# Builds a handler package from a handler directory (handler + contract.json;
# its name is the exchange):
#   examples/handler-package/build.sh HANDLER_DIR [VERSION] [OUTDIR]
# e.g. build.sh ~/handlers/dx_create_tree 1.0 makes
# rabbitmq-consumer-handler-dx-create-tree_1.0_all.deb. A handler package is
# nothing but the handler's directory under /usr/lib/rabbitmq-consumer/handlers
# and a control file: installing, upgrading or removing it fires
# rabbitmq-consumer's trigger, which restarts the consumers. No maintainer
# script is needed. (The example handler dx_example needs no package of its
# own: rabbitmq-consumer ships it.)
set -eu
[ $# -ge 1 ] && [ -f "$1/contract.json" ] && [ -f "$1/handler" ] || { echo "usage: $0 HANDLER_DIR [VERSION] [OUTDIR] (HANDLER_DIR holds handler and contract.json)" >&2; exit 64; }
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$1" && pwd)
exchange=$(basename "$src")
package=rabbitmq-consumer-handler-$(echo "$exchange" | tr '_' '-')
version=${2:-1.0}
out=${3:-$here/../../dist}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
mkdir -p "$stage/DEBIAN" "$stage/usr/lib/rabbitmq-consumer/handlers/$exchange" "$out"
sed -e "s/@VERSION@/$version/" -e "s/@PACKAGE@/$package/" -e "s/@EXCHANGE@/$exchange/g" "$here/DEBIAN/control" >"$stage/DEBIAN/control"
install -m 0755 "$src/handler" "$stage/usr/lib/rabbitmq-consumer/handlers/$exchange/handler"
install -m 0644 "$src/contract.json" "$stage/usr/lib/rabbitmq-consumer/handlers/$exchange/contract.json"
dpkg-deb --root-owner-group --build "$stage" "$out/${package}_${version}_all.deb" >/dev/null
echo "$out/${package}_${version}_all.deb"
