#!/usr/bin/env bash
# Starts or stops a 3-member etcd cluster on loopback for the benchmark, with Debian's etcd-server
# (installed with apt-get when missing). etcd fsyncs its WAL before acknowledging, like Synod.
# Clients on 12371, 12372, 12373; peers on 12381, 12382, 12383. Each member's data and log live
# in tools/bench/run/etcd/eN.
#   tools/bench/etcd-cluster.sh start|stop|status
# After start, tools/bench/run/etcd/env holds `pids` and `targets` for the other scripts.
set -euo pipefail
. "$(dirname "$0")/common.sh"
dir="$bench_run/etcd"
cluster="e1=http://127.0.0.1:12381,e2=http://127.0.0.1:12382,e3=http://127.0.0.1:12383"
endpoints="http://127.0.0.1:12371,http://127.0.0.1:12372,http://127.0.0.1:12373"

install_etcd() {
  command -v etcd >/dev/null && command -v etcdctl >/dev/null && return
  echo "installing Debian's etcd-server and etcd-client" >&2
  apt-get install -y -q etcd-server etcd-client >&2 \
    || { apt-get update -q >&2 && apt-get install -y -q etcd-server etcd-client >&2; }
}

start() {
  install_etcd
  require_free_ports 12371 12372 12373 12381 12382 12383
  mkdir -p "$dir"
  for i in 1 2 3; do
    nohup etcd --name "e$i" --data-dir "$dir/e$i" \
      --listen-client-urls "http://127.0.0.1:1237$i" --advertise-client-urls "http://127.0.0.1:1237$i" \
      --listen-peer-urls "http://127.0.0.1:1238$i" --initial-advertise-peer-urls "http://127.0.0.1:1238$i" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token synod-bench \
      --logger zap --log-level warn >"$dir/e$i.log" 2>&1 &
    echo $! >"$dir/e$i.pid"
  done
  for _ in $(seq 1 150); do
    ETCDCTL_API=3 etcdctl --endpoints="$endpoints" endpoint health >/dev/null 2>&1 && break
    sleep 0.2
  done
  ETCDCTL_API=3 etcdctl --endpoints="$endpoints" endpoint health \
    || { echo "etcd did not start:" >&2; tail -5 "$dir"/e*.log >&2; exit 1; }
  {
    echo "pids=\"$(cat "$dir"/e1.pid "$dir"/e2.pid "$dir"/e3.pid | tr '\n' ' ' | sed 's/ $//')\""
    echo "targets=127.0.0.1:12371,127.0.0.1:12372,127.0.0.1:12373"
  } >"$dir/env"
  echo "etcd cluster up ($(etcd --version | head -1)); endpoints $endpoints"
}

case "${1:-}" in
  start) start ;;
  stop)
    stop_pidfiles "$dir"/e1.pid "$dir"/e2.pid "$dir"/e3.pid
    rm -f "$dir/env"
    echo "etcd cluster stopped (data kept in $dir)"
    ;;
  status) ETCDCTL_API=3 etcdctl --endpoints="$endpoints" endpoint status -w table 2>&1 || true ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
