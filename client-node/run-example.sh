#!/usr/bin/env bash
# Runs the Node.js example against a Synod server: installs the pinned @grpc/grpc-js and
# @grpc/proto-loader from package-lock.json when node_modules is missing, then runs example.js
# (which loads the proto through index.js, from ../proto in a checkout).
#
# Usage: client-node/run-example.sh HOST:PORT [NODE_PATH] [--timeout SECONDS]
#          [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]   (TLS; mutual TLS with a client certificate)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"

if [ $# -lt 1 ]; then
  echo "usage: $0 HOST:PORT [NODE_PATH] [--timeout SECONDS] [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]" >&2
  exit 2
fi
for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "run-example: $tool is not installed (Node.js 18 or later with npm; on Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
done

cd "$here"
if [ ! -d node_modules ]; then
  log="$(mktemp)"
  if ! npm ci --no-audit --no-fund >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "run-example: npm ci failed" >&2
    exit 1
  fi
  rm -f "$log"
fi
exec node example.js "$@"
