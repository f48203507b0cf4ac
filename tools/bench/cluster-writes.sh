#!/usr/bin/env bash
# 3-server loopback cluster write throughput with fsync on, 1 vs 16 vs 64 sessions spread over
# the three servers, in one invocation. Reports the CPU the servers used.
# Usage: tools/bench/cluster-writes.sh [duration-s]   (run from the repository root)
set -euo pipefail
duration="${1:-10}"
. "$(dirname "$0")/common.sh"
work="$(mktemp -d)"
members="1=127.0.0.1:17071,2=127.0.0.1:17081,3=127.0.0.1:17091"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for i in 1 2 3; do
  java -jar server/target/synod-server.jar --server-id "$i" --members "$members" \
    --port $((17060 + 10 * i)) --data-dir "$work/s$i" >"$work/s$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 1 100); do grep -q "listening on" "$work/s$i.log" && break; sleep 0.2; done
done
sleep 1
cpu_ticks() { for p in "${pids[@]}"; do awk '{print $14+$15}' "/proc/$p/stat"; done | awk '{s+=$1} END {print s}'; }
cpu_before=$(cpu_ticks)
start=$(date +%s.%N)
loadgen 127.0.0.1:17070,127.0.0.1:17080,127.0.0.1:17090 1,16,64 "$duration"
end=$(date +%s.%N)
cpu_after=$(cpu_ticks)
hz=$(getconf CLK_TCK)
awk -v a="$cpu_before" -v b="$cpu_after" -v hz="$hz" -v s="$start" -v e="$end" \
  'BEGIN { printf "server CPU: %.1f s over %.1f s wall (3 servers on 2 cores)\n", (b - a) / hz, e - s }'
