#!/usr/bin/env bash
# 3-server loopback cluster write throughput with fsync on, 1 vs 16 vs 64 sessions spread over
# the three servers, in one invocation. Reports the CPU the servers used.
# Usage: tools/bench/cluster-writes.sh [duration-s]   (run from the repository root)
set -euo pipefail
duration="${1:-10}"
. "$(dirname "$0")/common.sh"
rm -rf "$bench_run/synod" # a fresh cluster, as every run of this script had before
"$root/tools/bench/synod-cluster.sh" start
trap '"$root/tools/bench/synod-cluster.sh" stop' EXIT
. "$bench_run/synod/env"
cpu_before=$(cpu_seconds $pids)
start=$(date +%s.%N)
loadgen synod "$targets" write 1,16,64 "$duration" --server-pids "${pids// /,}"
end=$(date +%s.%N)
cpu_after=$(cpu_seconds $pids)
awk -v a="$cpu_before" -v b="$cpu_after" -v s="$start" -v e="$end" \
  'BEGIN { printf "server CPU: %.1f s over %.1f s wall (3 servers on 2 cores)\n", b - a, e - s }'
