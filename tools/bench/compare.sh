#!/usr/bin/env bash
# Synod, Apache ZooKeeper and etcd side by side, in one invocation, on this machine: each system
# as a 3-node cluster on loopback with fsync on, one system running at a time, the same load
# generator and settings for all (100-byte values, closed-loop clients spread over the 3 nodes).
# Writes docs/benchmarks/results.md (tables with ratios), results.csv and write-throughput.png.
# Usage: tools/bench/compare.sh [duration_s]   (default 10 s per phase; about 10 minutes in all)
#   SYNOD_BENCH_WARMUP_S   warm-up per phase (default 3)
#   SYNOD_BENCH_SYSTEMS    which systems, in order (default "synod zookeeper etcd")
set -euo pipefail
duration="${1:-10}"
. "$(dirname "$0")/common.sh"
systems="${SYNOD_BENCH_SYSTEMS:-synod zookeeper etcd}"
out="$root/docs/benchmarks"
rm -rf "$bench_run"
mkdir -p "$bench_run" "$out"
results="$bench_run/results.csv"
cpu_csv="$bench_run/cpu.csv"
echo "system,server_cpu_s,wall_s" >"$cpu_csv"
started="$(date -u '+%Y-%m-%d %H:%M UTC')"
t_start=$(date +%s)

script_of() {
  case "$1" in
    synod) echo "$root/tools/bench/synod-cluster.sh" ;;
    zookeeper) echo "$root/tools/bench/zookeeper-ensemble.sh" ;;
    etcd) echo "$root/tools/bench/etcd-cluster.sh" ;;
    *) echo "unknown system $1 (synod, zookeeper, etcd)" >&2; exit 2 ;;
  esac
}

running=""
cleanup() { [ -z "$running" ] || "$(script_of "$running")" stop >/dev/null 2>&1 || true; }
trap cleanup EXIT

for system in $systems; do
  script="$(script_of "$system")"
  echo "=== $system: starting 3 nodes" >&2
  "$script" start >&2
  running="$system"
  . "$bench_run/$system/env"
  cpu_before=$(cpu_seconds $pids)
  wall_before=$(date +%s.%N)
  # Unrecorded warm-up: lets the JVMs compile their hot paths before the first measured phase.
  loadgen "$system" "$targets" write 16 10 --warmup-s 0 >/dev/null
  loadgen "$system" "$targets" write 1,4,16,64 "$duration" --server-pids "${pids// /,}" --csv "$results"
  loadgen "$system" "$targets" read,mixed,ephemeral,watch,lock 16 "$duration" \
    --server-pids "${pids// /,}" --csv "$results"
  cpu_after=$(cpu_seconds $pids)
  wall_after=$(date +%s.%N)
  label=$(case "$system" in synod) echo Synod ;; zookeeper) echo ZooKeeper ;; etcd) echo etcd ;; esac)
  awk -v s="$label" -v a="$cpu_before" -v b="$cpu_after" -v x="$wall_before" -v y="$wall_after" \
    'BEGIN { printf "%s,%.2f,%.2f\n", s, b - a, y - x }' >>"$cpu_csv"
  "$script" stop >&2
  running=""
done

note="Run $started by \`tools/bench/compare.sh $duration\` (${SYNOD_BENCH_WARMUP_S:-3} s warm-up per phase)"
note+=" on $(nproc) cores / $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo),"
note+=" $(java -version 2>&1 | sed -n 1p), $(etcd --version 2>/dev/null | sed -n 1p),"
note+=" ZooKeeper 3.9.5; $(( $(date +%s) - t_start )) s in all."
java -Djava.awt.headless=true -cp "$bench_jar" dev.synod.bench.CompareReport \
  --csv "$results" --cpu "$cpu_csv" --note "$note" --out "$out"
cat "$out/results.md"
