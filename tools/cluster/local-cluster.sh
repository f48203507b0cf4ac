#!/usr/bin/env bash
# Starts or stops a local 3-server Synod cluster on loopback.
#   tools/cluster/local-cluster.sh start   # clients on 127.0.0.1:7070, :7080, :7090
#   tools/cluster/local-cluster.sh status
#   tools/cluster/local-cluster.sh stop
# Each server keeps its data in ./synod-cluster/sN and logs to ./synod-cluster/sN.log.
# SYNOD_CLUSTER_DIR moves that folder; SYNOD_CLUSTER_PORT_BASE (default 7060) moves the ports:
# server N listens for clients on BASE+10N, for peers on BASE+10N+1, and serves /metrics,
# /healthz and /readyz on BASE+10N+2 (docs/monitoring/prometheus.yml scrapes those).
# SYNOD_SERVER_JAVA_OPTS replaces the servers' JVM options (default: see java_opts below).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
base="${SYNOD_CLUSTER_DIR:-$PWD/synod-cluster}"
jar="$root/server/target/synod-server.jar"
port_base="${SYNOD_CLUSTER_PORT_BASE:-7060}"
cli_jar="$root/tools/target/synod-tools.jar"
# A fixed 1 GiB heap with a 512 MiB young generation: under write load the default (a heap sized
# from RAM, young generation adapted by G1) collected every 1-3 s with 25-160 ms pauses on a
# busy 2-core machine, the largest part of the p99.9 write latency.
java_opts="${SYNOD_SERVER_JAVA_OPTS--Xms1g -Xmx1g -Xmn512m}"
members="1=127.0.0.1:$((port_base + 11)),2=127.0.0.1:$((port_base + 21)),3=127.0.0.1:$((port_base + 31))"
servers="127.0.0.1:$((port_base + 10)),127.0.0.1:$((port_base + 20)),127.0.0.1:$((port_base + 30))"

close_inherited_fds() {
  local fd
  for fd in /proc/self/fd/*; do
    fd="${fd##*/}"
    if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then
      eval "exec $fd>&-" 2>/dev/null || true
    fi
  done
}

start() {
  if [ ! -f "$jar" ] || [ ! -f "$cli_jar" ]; then
    echo "building the server and the CLI (mvn -B -q -DskipTests package) ..."
    (cd "$root" && mvn -B -q -DskipTests package)
  fi
  # The first start creates the cluster: every server founds it (--initial-cluster-state new).
  # Once any data directory exists the cluster does, and the flag is left out: a server whose
  # directory is missing then refuses to start, rather than found a second cluster (see
  # docs/majority-loss.md for a lost data directory).
  state_flag=""
  if [ ! -d "$base/s1" ] && [ ! -d "$base/s2" ] && [ ! -d "$base/s3" ]; then
    state_flag="--initial-cluster-state new"
  fi
  mkdir -p "$base"
  for i in 1 2 3; do
    if [ -f "$base/s$i.pid" ] && kill -0 "$(cat "$base/s$i.pid")" 2>/dev/null; then
      echo "server $i already running (pid $(cat "$base/s$i.pid"))"
      continue
    fi
    port=$((port_base + 10 * i))
    # The server must not inherit this shell's other open files (a lock held by whoever ran this
    # script, say `flock`, would stay held for as long as the server runs).
    # shellcheck disable=SC2086 # java_opts and state_flag hold several words
    (close_inherited_fds; exec nohup java $java_opts -jar "$jar" --server-id "$i" --members "$members" \
      --port "$port" --peer-port $((port + 1)) --metrics-port $((port + 2)) --data-dir "$base/s$i" \
      $state_flag) >"$base/s$i.log" 2>&1 &
    echo $! >"$base/s$i.pid"
  done
  for i in 1 2 3; do
    for _ in $(seq 1 100); do
      grep -q "listening on" "$base/s$i.log" 2>/dev/null && break
      sleep 0.2
    done
    grep "listening on" "$base/s$i.log" || { echo "server $i did not start:"; cat "$base/s$i.log"; exit 1; }
  done
  echo "cluster up; data in $base/s1, s2, s3; connect string $servers"
  echo "try: $root/bin/synod -s $servers status"
  echo "  or: export SYNOD_SERVERS=$servers; $root/bin/synod    (the interactive shell)"
}

stop() {
  for i in 1 2 3; do
    if [ -f "$base/s$i.pid" ]; then
      pid="$(cat "$base/s$i.pid")"
      kill "$pid" 2>/dev/null || true
      # Wait for it to exit (it releases its data directory), so a start right after works.
      for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      rm -f "$base/s$i.pid"
    fi
  done
  echo "cluster stopped (data kept in $base)"
}

status() {
  for i in 1 2 3; do
    if [ -f "$base/s$i.pid" ] && kill -0 "$(cat "$base/s$i.pid")" 2>/dev/null; then
      echo "server $i: running (pid $(cat "$base/s$i.pid")), client port $((port_base + 10 * i)), metrics" \
        "http://127.0.0.1:$((port_base + 10 * i + 2))/metrics"
    else
      echo "server $i: stopped"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status"; exit 2 ;;
esac
