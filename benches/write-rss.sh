#!/usr/bin/env bash
# Peak memory of pixgate while boto3 uploads 1 GiB through it, as a
# multipart upload (upload_file: 8 MiB parts, 10 threads, boto3's defaults)
# and as one streamed put_object, to an S3 upstream (s3s-fs,
# benches/src/bin/s3-origin.rs, unsigned: it has no keys) and to a
# local-directory bucket. The bodies
# must stream: a buffered part or object would show here.
# Usage: benches/write-rss.sh [MiB]   (default 1024; builds the release binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-1024}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pixgate-target}"
cargo build --release -p pixgate -p pixgate-benches --bin pixgate --bin s3-origin --locked -q
work=$(mktemp -d)
mkdir -p "$work/s3/upstream" "$work/local"
s3port=$((20000 + RANDOM % 10000))
port=$((30000 + RANDOM % 10000))
cat > "$work/pixgate.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
[[buckets]]
name = "via-s3"
origin = "s3://upstream"
endpoint = "http://127.0.0.1:$s3port"
[[buckets]]
name = "local"
origin = "file://$work/local"
[[keys]]
access_key_id = "bench"
secret_access_key = "bench-secret"
TOML
"$CARGO_TARGET_DIR/release/s3-origin" "$s3port" "$work/s3" &
s3pid=$!
"$CARGO_TARGET_DIR/release/pixgate" serve --config "$work/pixgate.toml" 2>"$work/pixgate.log" &
pid=$!
trap 'kill $pid $s3pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$work/pixgate.log"; exit 1; }
# Random bytes: nothing on the way can shrink them.
head -c "$((mib << 20))" /dev/urandom > "$work/body"
hwm() { awk '/VmHWM/ {print int($2 / 1024)}' /proc/$pid/status; }
echo "pixgate idle after start: $(hwm) MiB peak RSS; body $mib MiB"
for bucket in via-s3 local; do
  for how in multipart single; do
    start=$(date +%s.%N)
    python3 - "$port" "$bucket" "$how" "$work/body" <<'PY'
import sys, boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
port, bucket, how, path = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                  aws_access_key_id="bench", aws_secret_access_key="bench-secret",
                  config=Config(s3={"addressing_style": "path"}))
key = f"big-{how}"
if how == "multipart":
    s3.upload_file(path, bucket, key, Config=TransferConfig())
else:
    with open(path, "rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
assert size == __import__("os").path.getsize(path), size
PY
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    echo "$bucket $how: stored, ${secs%???????} s; pixgate peak RSS so far $(hwm) MiB"
  done
done
