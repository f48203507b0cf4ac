#!/usr/bin/env bash
# Starts or stops a 3-node Apache ZooKeeper 3.9 ensemble on loopback for the benchmark, from the
# bench module's jar (QuorumPeerMain). forceSync=yes: every transaction is fsynced before it is
# acknowledged, as Synod does. Clients on 12181, 12182, 12183; quorum ports 1288N / 1388N.
# Each node's config, data, transaction log and server log live in tools/bench/run/zookeeper/zN.
#   tools/bench/zookeeper-ensemble.sh start|stop|status
# After start, tools/bench/run/zookeeper/env holds `pids` and `targets` for the other scripts.
set -euo pipefail
. "$(dirname "$0")/common.sh"
dir="$bench_run/zookeeper"
# The same heap and collector as Synod's servers get from tools/cluster/local-cluster.sh, so neither JVM system
# is tuned and the other not; ZK_JAVA_OPTS replaces it (empty for the JVM defaults).
zk_java_opts="${ZK_JAVA_OPTS--Xms1g -Xmx1g -XX:+UseZGC}"

srvr() { # srvr PORT: the answer of ZooKeeper's "srvr" four-letter command, or nothing
  (exec 3<>"/dev/tcp/127.0.0.1/$1" && echo srvr >&3 && timeout 2 cat <&3) 2>/dev/null || true
}

start() {
  require_free_ports 12181 12182 12183 12881 12882 12883 13881 13882 13883
  for i in 1 2 3; do
    mkdir -p "$dir/z$i/data" "$dir/z$i/log"
    echo "$i" >"$dir/z$i/data/myid"
    cat >"$dir/z$i/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/z$i/data
dataLogDir=$dir/z$i/log
clientPort=1218$i
clientPortAddress=127.0.0.1
forceSync=yes
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok,mntr
server.1=127.0.0.1:12881:13881
server.2=127.0.0.1:12882:13882
server.3=127.0.0.1:12883:13883
CFG
    # shellcheck disable=SC2086 # zk_java_opts holds several options
    nohup java $zk_java_opts -Dorg.slf4j.simpleLogger.defaultLogLevel=info -Dzookeeper.jmx.log4j.disable=true \
      -cp "$bench_jar" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/z$i/zoo.cfg" \
      >"$dir/z$i/server.log" 2>&1 &
    echo $! >"$dir/z$i.pid"
  done
  for i in 1 2 3; do
    for _ in $(seq 1 150); do
      srvr "1218$i" | grep -q '^Mode:' && break
      sleep 0.2
    done
    srvr "1218$i" | grep '^Mode:' | sed "s/^/zookeeper $i: /" \
      || { echo "zookeeper $i did not start:" >&2; tail -20 "$dir/z$i/server.log" >&2; exit 1; }
  done
  {
    echo "pids=\"$(cat "$dir"/z1.pid "$dir"/z2.pid "$dir"/z3.pid | tr '\n' ' ' | sed 's/ $//')\""
    echo "targets=127.0.0.1:12181,127.0.0.1:12182,127.0.0.1:12183"
  } >"$dir/env"
  echo "zookeeper ensemble up; connect string 127.0.0.1:12181,127.0.0.1:12182,127.0.0.1:12183"
}

case "${1:-}" in
  start) start ;;
  stop)
    stop_pidfiles "$dir"/z1.pid "$dir"/z2.pid "$dir"/z3.pid
    rm -f "$dir/env"
    echo "zookeeper ensemble stopped (data kept in $dir)"
    ;;
  status) for i in 1 2 3; do echo "zookeeper $i: $(srvr "1218$i" | grep '^Mode:' || echo stopped)"; done ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
