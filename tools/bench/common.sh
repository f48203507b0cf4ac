# Shared by the benchmark scripts: go to the repository root, build the jars if they are missing,
# and run the load generator. Source it; it expects `set -euo pipefail` in the caller.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
[ -f server/target/synod-server.jar ] && [ -f tools/target/synod-tools.jar ] \
  || mvn -B -q -DskipTests package

# loadgen TARGETS CLIENTS DURATION_S: 100-byte writes, closed loop, one line per phase.
loadgen() {
  java -cp tools/target/synod-tools.jar dev.synod.tools.bench.LoadGen \
    --target "$1" --clients "$2" --duration-s "$3" --warmup-s "${SYNOD_BENCH_WARMUP_S:-5}" \
    --value-bytes 100 --workload write
}
