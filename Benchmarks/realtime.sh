#!/usr/bin/env bash
# The realtime benchmarks the way Benchmarks/RESULTS.md reports them: fan-out at 1,000 subscribers over a range of
# write rates, then server memory per idle WebSocket at 5,000 connections. Each run gets a fresh release server (fresh
# data folder), started here and stopped after the run.
#   cd Benchmarks && ./realtime.sh        (build first: swift build -c release && swift build -c release --product flint-server)
# Environment: BENCH and SERVER (the binaries; default .build/release/...), SUBSCRIBERS (1000), RATES ("10 20 30 200 500 1000"),
# SECONDS_PER_RUN (10), CONNECTIONS (5000).
set -euo pipefail
cd "$(dirname "$0")"
bench=${BENCH:-.build/release/flint-bench}
server=${SERVER:-.build/release/flint-server}
[ -x "$bench" ] && [ -x "$server" ] || { echo "build first: swift build -c release && swift build -c release --product flint-server" >&2; exit 1; }
SUBSCRIBERS=${SUBSCRIBERS:-1000}; RATES=${RATES:-"10 20 30 200 500 1000"}; SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}; CONNECTIONS=${CONNECTIONS:-5000}

# Each connection is a file descriptor in the server and in flint-bench: raise the limit as far as allowed.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%M:%SZ), open files $(ulimit -n)"
echo "(the load generator shares these cores with the server; 'other processes' in each report is everything else)"

server_pid=""; data=""
start_server() {
  data=$(mktemp -d)
  "$server" --port 0 --data-dir "$data" --log-level warning --rules-dir ../rules/open > "$data.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do grep -q listening "$data.out" 2>/dev/null && break; sleep 0.1; done
  port=$(grep -o '127.0.0.1:[0-9]*' "$data.out" | cut -d: -f2)
  [ -n "$port" ] || { echo "the server did not start" >&2; cat "$data.out" >&2; exit 1; }
}
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  rm -rf "$data" "$data.out"
}
trap stop_server EXIT

for rate in $RATES; do
  start_server
  echo; echo "== fanout: $bench fanout --url http://127.0.0.1:$port --pid $server_pid --subscribers $SUBSCRIBERS --writes-per-second $rate --seconds $SECONDS_PER_RUN"
  "$bench" fanout --url "http://127.0.0.1:$port" --pid "$server_pid" --subscribers "$SUBSCRIBERS" --writes-per-second "$rate" --seconds "$SECONDS_PER_RUN" | grep -v '^  s'
  stop_server
done

start_server
echo; echo "== idle: $bench idle --url http://127.0.0.1:$port --pid $server_pid --connections $CONNECTIONS"
"$bench" idle --url "http://127.0.0.1:$port" --pid "$server_pid" --connections "$CONNECTIONS"
stop_server
