#!/usr/bin/env bash
# Single-node write throughput with fsync on, 1 vs 64 concurrent sessions, in one invocation.
# Usage: tools/bench/single-node-writes.sh [duration-s]   (run from the repository root)
set -euo pipefail
duration="${1:-10}"
. "$(dirname "$0")/common.sh"
data="$(mktemp -d)"
log="$data/server.log"
java -jar server/target/synod-server.jar --port 0 --data-dir "$data/node" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on [^:]*:\([0-9]*\).*/\1/p' "$log" | head -n 1)
  [ -n "$port" ] && break
  sleep 0.2
done
[ -n "${port:-}" ] || { echo "server did not start:"; cat "$log"; exit 1; }
echo "synod single node on 127.0.0.1:$port, data in $data/node (fsync on)"
loadgen synod "127.0.0.1:$port" write 1,64 "$duration" --server-pids "$pid"
