#!/usr/bin/env bash
# Starts or stops a local 3-server Synod cluster on loopback.
#   tools/cluster/local-cluster.sh start   # clients on 127.0.0.1:7070, :7080, :7090
#   tools/cluster/local-cluster.sh start --tls   # the same with TLS (see below)
#   tools/cluster/local-cluster.sh status
#   tools/cluster/local-cluster.sh stop
#   tools/cluster/local-cluster.sh add-member   # grows the running cluster: server 4 on :7100
# Each server keeps its data in ./synod-cluster/sN and logs to ./synod-cluster/sN.log.
# With --tls (or SYNOD_CLUSTER_TLS=1) the first start makes a throw-away CA and certificates with
# openssl in ./synod-cluster/tls/ (member N: sN.pem/sN.key naming 127.0.0.1 and localhost; a
# client certificate client.pem/client.key) and the servers use mutual TLS on the client port and
# between members. A cluster started with TLS stays TLS (the tls/ folder says so).
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
# A fixed 1 GiB heap and ZGC (docs/benchmarks.md, "Garbage collection"): on a busy 2-core
# machine every G1 young pause was stretched by the other processes to 50-170 ms (the largest
# part of the write tail), whatever the young generation's size; ZGC stops the threads for well
# under a millisecond and does the rest beside them. G1 keeps compressed references and so uses
# less heap per node: prefer it (-XX:+UseG1GC) for trees of many millions of nodes.
java_opts="${SYNOD_SERVER_JAVA_OPTS--Xms1g -Xmx1g -XX:+UseZGC}"
members="1=127.0.0.1:$((port_base + 11)),2=127.0.0.1:$((port_base + 21)),3=127.0.0.1:$((port_base + 31))"
servers="127.0.0.1:$((port_base + 10)),127.0.0.1:$((port_base + 20)),127.0.0.1:$((port_base + 30))"

tls_dir="$base/tls"

# A CA and certificates for a cluster on this machine only: EC P-256 keys (PKCS#8), valid 30 days.
make_tls() {
  command -v openssl >/dev/null || { echo "--tls needs openssl"; exit 1; }
  mkdir -p "$tls_dir"
  (
    cd "$tls_dir"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
      -subj "/CN=synod local-cluster CA" -keyout ca.key -out ca.pem \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    issue() { # name, subject, subjectAltName (empty: none)
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$2" \
        -keyout "$1.key" -out "$1.csr" 2>/dev/null
      { echo "basicConstraints=CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        echo "extendedKeyUsage=serverAuth,clientAuth"
        if [ -n "$3" ]; then echo "subjectAltName=$3"; fi
      } >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
        -days 30 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    # A member's certificate names its host in --members (127.0.0.1): that is how the other
    # members recognise it. It serves the client port too.
    for i in 1 2 3; do issue "s$i" "/CN=synod member $i" "IP:127.0.0.1,DNS:localhost"; done
    # A client's names no member host, so it cannot pass for a member on the peer port.
    issue client "/CN=synod-client" ""
  )
  echo "made a throw-away CA and certificates in $tls_dir"
}

close_inherited_fds() {
  local fd
  for fd in /proc/self/fd/*; do
    fd="${fd##*/}"
    if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then
      eval "exec $fd>&-" 2>/dev/null || true
    fi
  done
}

# Starts server 4 (it joins: its --members lists the founders and itself); extra flags follow.
start_fourth() {
  local port=$((port_base + 40))
  # shellcheck disable=SC2086 # java_opts holds several words
  (close_inherited_fds; exec nohup java $java_opts -jar "$jar" --server-id 4 \
    --members "$members,4=127.0.0.1:$((port + 1))" --port "$port" --peer-port $((port + 1)) \
    --metrics-port $((port + 2)) --data-dir "$base/s4" "$@") >>"$base/s4.log" 2>&1 &
  echo $! >"$base/s4.pid"
  for _ in $(seq 1 100); do
    grep -q "listening on" "$base/s4.log" 2>/dev/null && break
    sleep 0.2
  done
  grep "listening on" "$base/s4.log" || { echo "server 4 did not start:"; cat "$base/s4.log"; exit 1; }
}

# Grows the running cluster by server 4: started on an empty directory to join, added as a
# learner, promoted to voter once it has caught up (synod members add / promote).
add_member() {
  if [ -f "$tls_dir/ca.pem" ]; then
    echo "add-member: not for a TLS cluster (its throw-away CA issued certificates for members 1-3 only)"
    exit 2
  fi
  if [ -d "$base/s4" ]; then
    echo "server 4 was added already (its data is in $base/s4); start brings it back"
    exit 2
  fi
  start_fourth --initial-cluster-state existing
  local synod=(java -jar "$cli_jar" -s "$servers")
  "${synod[@]}" members add 4 "127.0.0.1:$((port_base + 41))"
  for _ in $(seq 1 60); do
    if "${synod[@]}" members promote 4 2>"$base/promote.err"; then
      echo "server 4 is a voter; connect string $servers,127.0.0.1:$((port_base + 40))"
      return
    fi
    grep -q "behind\|not caught up" "$base/promote.err" || { cat "$base/promote.err"; exit 1; }
    sleep 1
  done
  echo "server 4 did not catch up within a minute:"; cat "$base/promote.err"; exit 1
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
  tls_flags=()
  if [ "$tls" = 1 ] || [ -f "$tls_dir/ca.pem" ]; then
    [ -f "$tls_dir/ca.pem" ] || make_tls
    tls=1
  fi
  for i in 1 2 3; do
    if [ "$tls" = 1 ]; then
      tls_flags=(--tls-cert "$tls_dir/s$i.pem" --tls-key "$tls_dir/s$i.key" --tls-client-ca "$tls_dir/ca.pem"
        --peer-tls-cert "$tls_dir/s$i.pem" --peer-tls-key "$tls_dir/s$i.key" --peer-tls-ca "$tls_dir/ca.pem")
    fi
    if [ -f "$base/s$i.pid" ] && kill -0 "$(cat "$base/s$i.pid")" 2>/dev/null; then
      echo "server $i already running (pid $(cat "$base/s$i.pid"))"
      continue
    fi
    port=$((port_base + 10 * i))
    # The server must not inherit this shell's other open files (a lock held by whoever ran this
    # script, say `flock`, would stay held for as long as the server runs).
    # shellcheck disable=SC2086 # java_opts and state_flag hold several words
    (close_inherited_fds; exec nohup java $java_opts -jar "$jar" --server-id "$i" --members "$members" \
      --port "$port" --peer-port $((port + 1)) --metrics-port $((port + 2)) --data-dir "$base/s$i" $state_flag \
      ${tls_flags[@]+"${tls_flags[@]}"}) >"$base/s$i.log" 2>&1 &
    echo $! >"$base/s$i.pid"
  done
  for i in 1 2 3; do
    for _ in $(seq 1 100); do
      grep -q "listening on" "$base/s$i.log" 2>/dev/null && break
      sleep 0.2
    done
    grep "listening on" "$base/s$i.log" || { echo "server $i did not start:"; cat "$base/s$i.log"; exit 1; }
  done
  if [ -d "$base/s4" ] && ! { [ -f "$base/s4.pid" ] && kill -0 "$(cat "$base/s4.pid")" 2>/dev/null; }; then
    start_fourth # added earlier (add-member): its directory says it is a member
  fi
  echo "cluster up; data in $base/s1, s2, s3; connect string $servers"
  if [ "$tls" = 1 ]; then
    local t="--tls-ca $tls_dir/ca.pem --tls-cert $tls_dir/client.pem --tls-key $tls_dir/client.key"
    echo "TLS: mutual TLS on the client and peer ports (CA and certificates in $tls_dir)"
    echo "try: $root/bin/synod -s $servers $t status"
    echo "  or: grpcurl -cacert $tls_dir/ca.pem -cert $tls_dir/client.pem -key $tls_dir/client.key" \
      "127.0.0.1:$((port_base + 10)) synod.v1.Synod/Status"
  else
    echo "try: $root/bin/synod -s $servers status"
    echo "  or: export SYNOD_SERVERS=$servers; $root/bin/synod    (the interactive shell)"
  fi
}

stop() {
  for i in 1 2 3 4; do
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
  for i in 1 2 3 4; do
    if [ "$i" = 4 ] && [ ! -d "$base/s4" ]; then
      continue
    fi
    if [ -f "$base/s$i.pid" ] && kill -0 "$(cat "$base/s$i.pid")" 2>/dev/null; then
      echo "server $i: running (pid $(cat "$base/s$i.pid")), client port $((port_base + 10 * i)), metrics" \
        "http://127.0.0.1:$((port_base + 10 * i + 2))/metrics"
    else
      echo "server $i: stopped"
    fi
  done
}

tls="${SYNOD_CLUSTER_TLS:-0}"
if [ "${2:-}" = "--tls" ]; then
  tls=1
fi

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  add-member) add_member ;;
  *) echo "usage: $0 start [--tls]|stop|status|add-member"; exit 2 ;;
esac
