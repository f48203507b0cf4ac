#!/usr/bin/env bash
# Synod (this checkout) beside ZooKeeper 3.9.5 and, for writes, beside another Synod checkout (a
# baseline: `git worktree add ../synod-base <commit>` and build it with `mvn -q -DskipTests
# package` there). Each system a fresh 3-node loopback cluster, fsync on, 100-byte values; rounds
# interleave the systems so a noisy machine hits them alike; one unrecorded 10 s write warm-up
# per start. Prints one line per phase: round system workload clients ops/s p50 p99 p99.9 (ms).
# Usage: tools/bench/write-ab.sh BASELINE_ROOT [duration_s (5)] [rounds (3)]
set -uo pipefail
base_root="$(cd "${1:?usage: write-ab.sh BASELINE_ROOT [duration_s] [rounds]}" && pwd)"
dur="${2:-5}"; rounds="${3:-3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
for r in $(seq 1 "$rounds"); do
  for sys in new zk base; do
    case $sys in
      base) root=$base_root; script=tools/bench/synod-cluster.sh; kind=synod; wl="write" ;;
      new) root=$here; script=tools/bench/synod-cluster.sh; kind=synod; wl="write ephemeral,watch" ;;
      zk) root=$here; script=tools/bench/zookeeper-ensemble.sh; kind=zookeeper; wl="write ephemeral,watch" ;;
    esac
    cd "$root"
    run=$root/tools/bench/run
    rm -rf "${run:?}/$kind"
    $script start >/dev/null 2>&1
    . "$run/$kind/env"
    lg() { java -cp "$root/tools/bench/target/synod-bench.jar" dev.synod.bench.LoadGen --system "$kind" \
      --target "$targets" --value-bytes 100 "$@" 2>/dev/null; }
    lg --workloads write --clients 16 --duration-s 10 --warmup-s 0 >/dev/null
    for w in $wl; do
      clients=$([ "$w" = write ] && echo 1,16,64 || echo 16)
      lg --workloads "$w" --clients "$clients" --duration-s "$dur" --warmup-s 2 \
        | awk -v s=$sys -v r="$r" 'NR>2 && $3 ~ /^[0-9]+$/ {print r, s, $2, $3, $4, $5, $6, $7}'
    done
    $script stop >/dev/null 2>&1
  done
done
