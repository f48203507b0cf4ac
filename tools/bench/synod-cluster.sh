#!/usr/bin/env bash
# Starts or stops the benchmark's 3-server Synod cluster on loopback (fsync on, as always):
# tools/cluster/local-cluster.sh on ports of its own (clients 17070, 17080, 17090) with its data
# under tools/bench/run/synod, so it never meets a development cluster on the default ports.
#   tools/bench/synod-cluster.sh start|stop|status
# After start, tools/bench/run/synod/env holds `pids` and `targets` for the other scripts.
set -euo pipefail
. "$(dirname "$0")/common.sh"
dir="$bench_run/synod"
export SYNOD_CLUSTER_DIR="$dir" SYNOD_CLUSTER_PORT_BASE=17060
launcher="$root/tools/cluster/local-cluster.sh"

case "${1:-}" in
  start)
    require_free_ports 17070 17071 17080 17081 17090 17091
    "$launcher" start
    {
      echo "pids=\"$(cat "$dir"/s1.pid "$dir"/s2.pid "$dir"/s3.pid | tr '\n' ' ' | sed 's/ $//')\""
      echo "targets=127.0.0.1:17070,127.0.0.1:17080,127.0.0.1:17090"
    } >"$dir/env"
    ;;
  stop)
    # local-cluster.sh only signals; wait until the servers are gone so the next system runs alone.
    pidfiles=("$dir"/s1.pid "$dir"/s2.pid "$dir"/s3.pid)
    stop_pidfiles "${pidfiles[@]}"
    rm -f "$dir/env"
    echo "synod cluster stopped (data kept in $dir)"
    ;;
  status) "$launcher" status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
