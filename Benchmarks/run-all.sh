#!/usr/bin/env bash
# Runs every Flint benchmark once, the way Benchmarks/RESULTS.md reports them, and prints the machine it ran on.
#   cd Benchmarks && ./run-all.sh            (build first: swift build -c release && swift build -c release --product flint-server)
# Environment: BENCH and SERVER (the binaries; default .build/release/...), DOCS (100000), ITERATIONS (2000), CLIENTS (64), DURATION (10 s), RUNS (20), PORT (18080).
# For each benchmark it also prints how much CPU the rest of the machine used meanwhile ("others"), because on a
# 2-core machine a concurrent compile changes every number: rerun when "others" is not near 0.
set -euo pipefail
cd "$(dirname "$0")"
bench=${BENCH:-.build/release/flint-bench}
server=${SERVER:-.build/release/flint-server}
[ -x "$bench" ] && [ -x "$server" ] || { echo "build first: swift build -c release && swift build -c release --product flint-server" >&2; exit 1; }
DOCS=${DOCS:-100000}; ITERATIONS=${ITERATIONS:-2000}; CLIENTS=${CLIENTS:-64}; DURATION=${DURATION:-10}; RUNS=${RUNS:-20}; PORT=${PORT:-18080}
hz=$(getconf CLK_TCK)

busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }   # user nice system irq softirq steal
proc_cpu() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0; }  # incl. waited-for children
secs() { awk -v j="$1" -v hz="$hz" 'BEGIN {printf "%.2f", j / hz}'; }

echo "== machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc: $(nproc)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "kernel: $(uname -r)"
echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "filesystem of the temp dir: $(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 {print $2 " on " $1}')"
echo "flint commit: $(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C .. diff --quiet HEAD -- ../Sources 2>/dev/null || echo ' (Sources modified)')"
echo "swift: $(swift --version 2>&1 | head -1)"

echo; echo "== query: $bench query --documents $DOCS --iterations $ITERATIONS"
b0=$(busy)
/usr/bin/time -f "benchmark process CPU: %U s user + %S s system, %e s wall" "$bench" query --documents "$DOCS" --iterations "$ITERATIONS"
b1=$(busy)
echo "machine busy meanwhile: $(secs $((b1 - b0))) CPU-s (the benchmark's own CPU is above)"

run_writes() {  # $1: label, rest: the load command (its URL is added by the caller)
  local label=$1; shift
  local dir; dir=$(mktemp -d "${TMPDIR:-/tmp}/flint-bench-writes.XXXXXX")
  "$server" --port "$PORT" --data-dir "$dir" --log-level warning --rules-dir ../rules/open > "$dir/server.out" 2>&1 &
  local pid=$!
  for _ in $(seq 1 500); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.01; done
  echo; echo "== writes ($label): fresh server (pid $pid, data dir $dir), then: $*"
  local s0 b0 b1 s1 c0 c1
  s0=$(proc_cpu "$pid"); b0=$(busy); c0=$(awk '{print $16 + $17}' /proc/$$/stat)
  "$@"
  b1=$(busy); s1=$(proc_cpu "$pid"); c1=$(awk '{print $16 + $17}' /proc/$$/stat)
  echo "CPU meanwhile: server $(secs $((s1 - s0))) s, load generator $(secs $((c1 - c0))) s, whole machine $(secs $((b1 - b0))) s (2 cores = 2 CPU-s per s)"
  kill -TERM "$pid"; wait "$pid" || true
  echo "database after the run: $(du -sh "$dir" | cut -f1)"
  rm -rf "$dir"
}

run_writes "flint-bench, NIO client, per-client ids" "$bench" writes --url "http://127.0.0.1:$PORT" --clients "$CLIENTS" --seconds "$DURATION"
run_writes "flint-bench, NIO client, random ids" "$bench" writes --url "http://127.0.0.1:$PORT" --clients "$CLIENTS" --seconds "$DURATION" --ids random
if command -v wrk >/dev/null; then
  run_writes "wrk, one ascending run of ids" wrk -t1 -c"$CLIENTS" -d"${DURATION}s" --latency -s writes.lua "http://127.0.0.1:$PORT"
  run_writes "wrk, random ids" wrk -t1 -c"$CLIENTS" -d"${DURATION}s" --latency -s writes-random.lua "http://127.0.0.1:$PORT"
else
  echo; echo "(wrk not installed: apt-get install -y wrk for the cross-check)"
fi

echo; echo "== startup: $bench startup --server $server --runs $RUNS"
b0=$(busy)
"$bench" startup --server "$server" --runs "$RUNS"
b1=$(busy)
echo "machine busy meanwhile: $(secs $((b1 - b0))) CPU-s"
