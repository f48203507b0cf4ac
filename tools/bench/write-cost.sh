#!/usr/bin/env bash
# What one write costs the three servers of a fresh loopback Synod cluster (fsync on, 100-byte
# values): a WARMUP_S-second write warm-up at 16 clients, then a 10 s window at CLIENTS clients,
# over which it counts each thread kind's CPU and voluntary context switches (from /proc) and
# divides them by the writes made. Prints the LoadGen line, one line per thread kind, and a total.
# Usage: tools/bench/write-cost.sh [CLIENTS (1)] [WARMUP_S (30)]
set -uo pipefail
clients="${1:-1}"; warmup="${2:-30}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cd "$root"
rm -rf tools/bench/run/synod
tools/bench/synod-cluster.sh start >/dev/null 2>&1
. tools/bench/run/synod/env
lg() { java -cp tools/bench/target/synod-bench.jar dev.synod.bench.LoadGen --system synod --target "$targets" \
  --value-bytes 100 --workloads write --warmup-s 0 "$@" 2>/dev/null; }
snap() { # thread kind (name without its number), CPU ticks, voluntary switches, summed over the servers
  for p in $pids; do for t in /proc/"$p"/task/*; do
    echo "$(tr ' ' _ <"$t"/comm | sed 's/[0-9]*$//') $(awk '{print $14+$15}' "$t"/stat) $(awk '/^voluntary_ctxt_switches/{print $2}' "$t"/status)"
  done; done | awk '{c[$1]+=$2; s[$1]+=$3} END {for (k in c) print k, c[k], s[k]}' | sort
}
lg --clients 16 --duration-s "$warmup" >/dev/null
snap >"$tmp/before"
lg --clients "$clients" --duration-s 10 | tee "$tmp/lg" | grep '^Synod'
snap >"$tmp/after"
ops=$(awk '$2=="write"{print $4*10}' "$tmp/lg")
tick_ms=$((1000 / $(getconf CLK_TCK)))
join "$tmp/before" "$tmp/after" | awk -v ops="$ops" -v ms="$tick_ms" '{dc=$4-$2; ds=$5-$3; tc+=dc; ts+=ds;
  if (dc>5) printf "%-22s cpu_ms/write %.3f  switches/write %.2f\n", $1, dc*ms/ops, ds/ops}
  END {printf "total: %d writes, cpu_ms/write %.3f, switches/write %.2f\n", ops, tc*ms/ops, ts/ops}'
tools/bench/synod-cluster.sh stop >/dev/null 2>&1
