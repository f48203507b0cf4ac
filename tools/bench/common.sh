# Shared by the benchmark scripts: go to the repository root, build the jars if they are missing,
# and helpers to run the load generator and to start, watch and stop server processes.
# Source it; it expects `set -euo pipefail` in the caller.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bench_jar="$root/tools/bench/target/synod-bench.jar"
# Where the benchmark's servers keep their data and logs (gitignored).
bench_run="${SYNOD_BENCH_RUN_DIR:-$root/tools/bench/run}"
[ -f server/target/synod-server.jar ] && [ -f "$bench_jar" ] \
  || mvn -B -q -DskipTests package

# loadgen SYSTEM TARGETS WORKLOADS CLIENTS DURATION_S [more LoadGen flags...]:
# closed-loop clients, 100-byte values, one line per phase (progress on stderr).
loadgen() {
  local system="$1" targets="$2" workloads="$3" clients="$4" duration="$5"
  shift 5
  java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$bench_jar" dev.synod.bench.LoadGen \
    --system "$system" --target "$targets" --workloads "$workloads" --clients "$clients" \
    --duration-s "$duration" --warmup-s "${SYNOD_BENCH_WARMUP_S:-3}" --value-bytes 100 "$@"
}

# port_open PORT: true if something on 127.0.0.1 accepts connections on PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# require_free_ports PORT...: stop with a clear message if another process already has a port.
require_free_ports() {
  local p
  for p in "$@"; do
    if port_open "$p"; then
      echo "port $p on 127.0.0.1 is already in use: stop whatever runs there first" >&2
      exit 1
    fi
  done
}

# stop_pidfiles FILE...: ask each process to stop, wait up to 20 s, then kill it; removes the files.
stop_pidfiles() {
  local f pid pids=()
  for f in "$@"; do
    [ -f "$f" ] || continue
    pid="$(cat "$f")"
    kill "$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$f"
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

# cpu_seconds PID...: user + system CPU seconds the processes have used so far.
cpu_seconds() {
  local hz
  hz="$(getconf CLK_TCK)"
  for p in "$@"; do
    # Fields counted after the command name's closing parenthesis: utime is 14, stime 15.
    sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}'
  done | awk -v hz="$hz" '{s += $1} END {printf "%.2f\n", s / hz}'
}
