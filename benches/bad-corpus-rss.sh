#!/usr/bin/env bash
# Peak memory of pixgate while it answers every file in ../shared/corpus/bad
# (decompression bombs, fuzz crashers, truncated files) with three process
# strings each, one at a time, through real HTTP.
# Usage: benches/bad-corpus-rss.sh   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pixgate-target}"
cargo build --release -p pixgate --locked -q
bin="$CARGO_TARGET_DIR/release/pixgate"
root=$(cd ../shared/corpus && pwd)
port=$((20000 + RANDOM % 20000))
"$bin" serve --root "$root" --listen "127.0.0.1:$port" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
baseline=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
statuses=""
for f in $(cd "$root" && find bad -type f | sort); do
  for p in "image/resize,w_100" "image/format,png" "image/rotate,90"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/$f?x-oss-process=$p")
    statuses="$statuses $code"
  done
done
peak=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "requests: $(echo $statuses | wc -w)"
echo "status counts: $(echo $statuses | tr ' ' '\n' | sort | uniq -c | tr '\n' ' ')"
echo "peak RSS (VmHWM): $((peak / 1024)) MiB (idle after start: $((baseline / 1024)) MiB)"
