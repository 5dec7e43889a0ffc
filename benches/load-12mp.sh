#!/usr/bin/env bash
# Bounded load: 200 concurrent connections asking for a 400 px thumbnail of
# the 12 MP photo for 30 s (no result cache: every request decodes), while
# /healthz is probed every 200 ms. Reports status counts, throughput, the
# slowest /healthz and pixgate's peak RSS.
# Usage: benches/load-12mp.sh [seconds] [connections]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
conns=${2:-200}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pixgate-target}"
cargo build --release -p pixgate --locked -q
bin="$CARGO_TARGET_DIR/release/pixgate"
root=$(cd ../shared/corpus/photos && pwd)
port=$((20000 + RANDOM % 20000))
ulimit -n 4096 || true
# The embedded default, with the result cache off so every admitted request
# decodes (the source cache stays on, as deployed).
config=$(mktemp)
cat > "$config" <<TOML
[server]
listen = "127.0.0.1:$port"
default_bucket = "local"
[cache]
result_bytes = 0
[[buckets]]
name = "local"
origin = "file://$root"
TOML
"$bin" serve --config "$config" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

lua=$(mktemp)
cat > "$lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("status %d: %d\n", k, v)) end
end
LUA
(
  end=$((SECONDS + secs))
  worst=0
  while [ $SECONDS -lt $end ]; do
    t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/healthz")
    worst=$(python3 -c "print(max($worst, $t))")
    sleep 0.2
  done
  echo "$worst" > /tmp/pixgate-healthz-worst
) &
prober=$!
wrk -t2 -c"$conns" -d"${secs}s" --timeout 60s -s "$lua" \
  "http://127.0.0.1:$port/phone-4032x3024.jpg?x-oss-process=image/resize,w_400" | tee /tmp/pixgate-wrk.txt
wait $prober
rm -f "$lua"
peak=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "healthz worst: $(python3 -c "print(round($(cat /tmp/pixgate-healthz-worst) * 1000, 1))") ms"
echo "peak RSS (VmHWM): $((peak / 1024)) MiB"
