#!/usr/bin/env bash
# Flint on PostgreSQL, one and two servers, beside SQLite: durable write throughput (64 clients) and realtime fan-out
# (1,000 subscribers). Starts a throwaway PostgreSQL cluster in a temporary folder on loopback (as the postgres user
# when run as root; synchronous_commit on, fsync on: PostgreSQL's durable defaults), a fresh database per run.
#   cd Benchmarks && ./postgres.sh        (build first: swift build -c release && swift build -c release --product flint-server)
# Environment: BENCH and SERVER (the binaries), CLIENTS (64), DURATION (10 s), SUBSCRIBERS (1000), RATES ("30 200"),
# SECONDS_PER_RUN (10).
set -euo pipefail
cd "$(dirname "$0")"
bench=${BENCH:-.build/release/flint-bench}
server=${SERVER:-.build/release/flint-server}
[ -x "$bench" ] && [ -x "$server" ] || { echo "build first: swift build -c release && swift build -c release --product flint-server" >&2; exit 1; }
CLIENTS=${CLIENTS:-64}; DURATION=${DURATION:-10}; SUBSCRIBERS=${SUBSCRIBERS:-1000}; RATES=${RATES:-"30 200"}; SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$pg_bin" ] || { echo "no PostgreSQL binaries (apt-get install -y postgresql)" >&2; exit 1; }
pg_dir=$(mktemp -d /tmp/flint-bench-pg.XXXXXX)
as_postgres=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$pg_dir"; as_postgres=(runuser -u postgres --); fi
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir" /tmp/flint-bench-pg-data.*
}
trap cleanup EXIT
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_postgres[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
"${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$pg_dir -c max_connections=400" start >/dev/null
psql() { "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qAt "$@"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "flint commit: $(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port; fsync $(psql -c 'show fsync'), synchronous_commit $(psql -c 'show synchronous_commit')"

run=0
# start_servers N [sqlite]: N fresh servers on one fresh database (or one SQLite server); sets urls[] and server_pids[].
start_servers() {
  local count=$1 kind=${2:-postgres}
  run=$((run + 1)); urls=(); server_pids=()
  local database_args=()
  if [ "$kind" = postgres ]; then
    psql -c "CREATE DATABASE flint_bench_$run"
    database_args=(--database-url "postgres://postgres@127.0.0.1:$pg_port/flint_bench_$run?sslmode=disable")
  fi
  for i in $(seq 1 "$count"); do
    local data; data=$(mktemp -d /tmp/flint-bench-pg-data.XXXXXX)
    "$server" --port 0 --data-dir "$data" --log-level warning --rules-dir ../rules/open --public-url http://flint.bench "${database_args[@]}" > "$data.out" 2>&1 &
    local pid=$!; pids+=("$pid"); server_pids+=("$pid")
    for _ in $(seq 1 300); do grep -q listening "$data.out" 2>/dev/null && break; sleep 0.1; done
    local port; port=$(grep -o '127.0.0.1:[0-9]*' "$data.out" | head -1 | cut -d: -f2)
    [ -n "$port" ] || { echo "a server did not start" >&2; cat "$data.out" >&2; exit 1; }
    urls+=("http://127.0.0.1:$port")
  done
}
stop_servers() { for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; }

for kind in sqlite postgres; do
  start_servers 1 "$kind"
  echo; echo "== writes, $kind, one server: $bench writes --url ${urls[0]} --clients $CLIENTS --seconds $DURATION"
  "$bench" writes --url "${urls[0]}" --clients "$CLIENTS" --seconds "$DURATION"
  stop_servers
done

start_servers 2
half=$((CLIENTS / 2))
echo; echo "== writes, postgres, two servers on one database, $half clients each, at the same time:"
echo "   $bench writes --url ${urls[0]} --clients $half --seconds $DURATION  &  $bench writes --url ${urls[1]} --clients $half --seconds $DURATION"
"$bench" writes --url "${urls[0]}" --clients "$half" --seconds "$DURATION" > "$pg_dir/a.txt" &
a=$!
"$bench" writes --url "${urls[1]}" --clients "$half" --seconds "$DURATION" > "$pg_dir/b.txt"
wait "$a"
echo "-- server A:"; cat "$pg_dir/a.txt"
echo "-- server B:"; cat "$pg_dir/b.txt"
stop_servers

for rate in $RATES; do
  for kind in sqlite postgres; do
    start_servers 1 "$kind"
    echo; echo "== fanout, $kind, one server: $bench fanout --url ${urls[0]} --pid ${server_pids[0]} --subscribers $SUBSCRIBERS --writes-per-second $rate --seconds $SECONDS_PER_RUN"
    "$bench" fanout --url "${urls[0]}" --pid "${server_pids[0]}" --subscribers "$SUBSCRIBERS" --writes-per-second "$rate" --seconds "$SECONDS_PER_RUN" | grep -v '^  s'
    stop_servers
  done
  start_servers 2
  echo; echo "== fanout, postgres, two servers: subscribers on B, writes to A: $bench fanout --url ${urls[1]} --write-url ${urls[0]} --pid ${server_pids[1]} --subscribers $SUBSCRIBERS --writes-per-second $rate --seconds $SECONDS_PER_RUN"
  "$bench" fanout --url "${urls[1]}" --write-url "${urls[0]}" --pid "${server_pids[1]}" --subscribers "$SUBSCRIBERS" --writes-per-second "$rate" --seconds "$SECONDS_PER_RUN" | grep -v '^  s'
  stop_servers
done
