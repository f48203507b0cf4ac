#!/usr/bin/env bash
# The scale points of issue 13 against one Synod server and one standalone ZooKeeper, in one
# invocation, each in a JVM with the same options (SCALE_JAVA_OPTS, default -Xmx4g -XX:+UseG1GC
# -XX:+UseTransparentHugePages: a restart's first touch of the heap costs fewer page faults),
# fsync on for both (ZooKeeper's forceSync=yes), each with its default snapshot interval:
#   1. load PARENTS x CHILDREN nodes of 100 B (plus the parents) through the standard client,
#      CLIENTS sessions at once; nodes/s and server CPU per node;
#   2. heap after a full GC (jcmd GC.run, then GC.heap_info), less the empty server's, per node;
#   3. kill -9, start again, time from the launch to the first successful read of the last node
#      (a fresh client session per attempt, its classes loaded before the clock starts);
#      heap per node after that restart;
#   4. a clean stop (SIGTERM; Synod writes a snapshot then), start again, the same time.
# Usage (from the repository root):
#   tools/bench/scale.sh [PARENTS] [CHILDREN] [CLIENTS]     # default 1000 1000 64
#   SCALE_SYSTEMS=synod tools/bench/scale.sh 200 1000        # one system only
# Prints a markdown table (also written to tools/bench/run/scale/table.md) for docs/benchmarks.md.
set -euo pipefail
. "$(dirname "$0")/common.sh"
parents="${1:-1000}"
children="${2:-1000}"
clients="${3:-64}"
systems="${SCALE_SYSTEMS:-synod zookeeper}"
java_opts="${SCALE_JAVA_OPTS:--Xmx4g -XX:+UseG1GC -XX:+UseTransparentHugePages}"
dir="$bench_run/scale"
synod_port=17170
zk_port=17181
nodes=$((parents * children + parents))
last_node="$(printf '/p%04d/c%04d' $((parents - 1)) $((children - 1)))"
mkdir -p "$dir"
require_free_ports $synod_port $zk_port

now_ms() { date +%s%3N; }

# heap_used_kib PID: heap in use after two full collections, in KiB.
heap_used_kib() {
  jcmd "$1" GC.run >/dev/null
  jcmd "$1" GC.run >/dev/null
  jcmd "$1" GC.heap_info | sed -n 's/.*heap *total [0-9]*K, used \([0-9]*\)K.*/\1/p' | head -n 1
}

# start_server SYSTEM: launches the server in the background; sets $pid.
start_server() {
  local data="$dir/$1"
  mkdir -p "$data"
  if [ "$1" = synod ]; then
    # shellcheck disable=SC2086 # java_opts holds several options
    java $java_opts -jar server/target/synod-server.jar --port $synod_port \
      --data-dir "$data/data" >>"$data/server.log" 2>&1 &
  else
    cat >"$data/zoo.cfg" <<CFG
tickTime=2000
dataDir=$data/data
dataLogDir=$data/log
clientPort=$zk_port
clientPortAddress=127.0.0.1
forceSync=yes
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr
CFG
    # shellcheck disable=SC2086
    java $java_opts -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dzookeeper.jmx.log4j.disable=true \
      -cp "$bench_jar" org.apache.zookeeper.server.ZooKeeperServerMain "$data/zoo.cfg" \
      >>"$data/server.log" 2>&1 &
  fi
  pid=$!
}

port_of() { if [ "$1" = synod ]; then echo $synod_port; else echo $zk_port; fi; }

wait_port() { # wait_port PORT: up to 120 s
  for _ in $(seq 1 1200); do port_open "$1" && return 0; sleep 0.1; done
  echo "nothing listens on $1 after 120 s" >&2
  return 1
}

# restart SYSTEM: starts the server (sets $pid) and sets $restart_ms to the ms from its launch to
# the first read. Not in a subshell: the server must stay this shell's child.
restart() {
  local fifo="$dir/probe.in" out="$dir/probe.out" t0 t1
  rm -f "$fifo" "$out"
  mkfifo "$fifo"
  java -cp "$bench_jar" dev.synod.bench.ScaleClient \
    first-read "$1" "127.0.0.1:$(port_of "$1")" "$last_node" 120 <"$fifo" >"$out" 2>"$dir/probe.err" &
  local probe=$!
  exec 7>"$fifo"
  for _ in $(seq 1 300); do grep -q ready "$out" 2>/dev/null && break; sleep 0.1; done
  t0="$(now_ms)"
  start_server "$1"
  echo go >&7
  exec 7>&-
  wait "$probe" || { echo "first read failed:" >&2; cat "$dir/probe.err" >&2; return 1; }
  t1="$(tail -n 1 "$out")"
  rm -f "$fifo"
  restart_ms=$((t1 - t0))
}

declare -A result
for system in $systems; do
  echo "== $system: $nodes nodes ($parents x $children of 100 B), $clients clients, JVM: $java_opts" >&2
  rm -rf "${dir:?}/$system"
  start_server "$system"
  wait_port "$(port_of "$system")"
  sleep 2 # let the server finish starting before the baseline heap is taken
  base_kib="$(heap_used_kib "$pid")"
  cpu0="$(cpu_seconds "$pid")"
  read -r created load_s load_rate < <(java -cp "$bench_jar" \
    dev.synod.bench.ScaleClient load "$system" "127.0.0.1:$(port_of "$system")" \
    "$parents" "$children" 100 "$clients" 2> >(grep --line-buffered '^  ' >&2))
  cpu1="$(cpu_seconds "$pid")"
  fresh_kib="$(heap_used_kib "$pid")"
  echo "  loaded $created nodes in $load_s s ($load_rate nodes/s); heap $((fresh_kib >> 10)) MiB (empty: $((base_kib >> 10)) MiB)" >&2

  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  restart "$system"
  kill9_ms=$restart_ms
  restarted_kib="$(heap_used_kib "$pid")"
  echo "  kill -9, restart to first read: $kill9_ms ms; heap $((restarted_kib >> 10)) MiB" >&2

  stop0="$(now_ms)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  stop_ms=$(($(now_ms) - stop0))
  restart "$system"
  clean_ms=$restart_ms
  echo "  clean stop in $stop_ms ms, restart to first read: $clean_ms ms" >&2
  kill "$pid"; wait "$pid" 2>/dev/null || true

  per_node() { awk -v k="$1" -v b="$base_kib" -v n="$nodes" 'BEGIN {printf "%.0f", (k - b) * 1024 / n}'; }
  result[$system,load]="$(printf '%s nodes/s, %.0f µs server CPU each' "$load_rate" \
    "$(awk -v a="$cpu0" -v b="$cpu1" -v n="$created" 'BEGIN {print (b - a) * 1e6 / n}')")"
  result[$system,heap]="$(( (fresh_kib - base_kib) >> 10 )) MiB ($(per_node "$fresh_kib") B/node) fresh, $(( (restarted_kib - base_kib) >> 10 )) MiB ($(per_node "$restarted_kib") B/node) after restart"
  result[$system,kill9]="$(awk -v m="$kill9_ms" 'BEGIN {printf "%.2f s", m / 1000}')"
  result[$system,clean]="$(awk -v m="$clean_ms" -v s="$stop_ms" 'BEGIN {printf "%.2f s (the stop took %.2f s)", m / 1000, s / 1000}')"
done

{
  echo "| scale point ($nodes nodes of 100 B, \`$java_opts\`) | $(echo "$systems" | sed 's/ / | /g') |"
  echo "|---|$(for _ in $systems; do printf -- '---|'; done)"
  for row in "load:load ($clients clients)" "heap:heap after full GC, beyond the empty server" \
      "kill9:restart after kill -9, launch to first read" "clean:restart after a clean stop"; do
    key="${row%%:*}"
    printf '| %s |' "${row#*:}"
    for system in $systems; do printf ' %s |' "${result[$system,$key]}"; done
    echo
  done
} | tee "$dir/table.md"
