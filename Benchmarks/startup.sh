#!/usr/bin/env bash
# Start-up time of flint-server, measured from the shell: launch the release binary with a fresh data folder and
# poll GET /ready with curl until it answers 200. Prints each run and the median in milliseconds.
#   Benchmarks/startup.sh [path/to/flint-server] [runs]
# The polling granularity is one curl process (a few ms); `flint-bench startup` polls over raw sockets and is finer.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
default="$here/.build/release/flint-server"
[ -x "$default" ] || default="$here/../.build-release/release/flint-server"
server="${1:-$default}"
runs="${2:-10}"
[ -x "$server" ] || { echo "no executable at $server" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }

times=()
for i in $(seq 1 "$runs"); do
  dir="$(mktemp -d /tmp/flint-startup.XXXXXX)"
  port=$(( 20000 + RANDOM % 20000 ))
  start=$(date +%s%N)
  "$server" --port "$port" --data-dir "$dir" --log-level warning >/dev/null 2>&1 &
  pid=$!
  ok=0
  for _ in $(seq 1 20000); do   # bounded: gives up after 20000 attempts
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready" 2>/dev/null)" = "200" ]; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
  done
  end=$(date +%s%N)
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  [ "$ok" = 1 ] || { echo "run $i: server did not become ready" >&2; exit 1; }
  ms=$(( (end - start) / 1000 ))
  times+=("$ms")
  printf 'run %d: %d.%03d ms\n' "$i" $((ms / 1000)) $((ms % 1000))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}')
printf 'median start-up to /ready 200: %d.%03d ms over %d runs\n' $((median / 1000)) $((median % 1000)) "$runs"
