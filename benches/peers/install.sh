#!/usr/bin/env bash
# Installs what the peer benchmark runs, from the registries only, into
# $PEERS (default ~/.cache/pixgate-peers). Idempotent: installed pieces are kept.
#   oximg 0.18.1  (crates.io)  a Rust resize server, with its `avif` feature (b-avif)
#   sharp 0.34    (npm)        libvips, behind benches/peers/sharp-server.js
#   thumbor 7.8.0 (PyPI)       Pillow-based
#   wrk           (Debian)     the load generator
#   nginx-light   (Debian)     the static origin every contestant reads from,
#                              and the yardstick of --cheap-paths
set -euo pipefail
PEERS=${PEERS:-$HOME/.cache/pixgate-peers}
mkdir -p "$PEERS"
sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
command -v wrk >/dev/null || $sudo_ apt-get install -y -q wrk
# Only the binary is used (run.py starts its own instances); the Debian
# service, if the package starts one, is not needed.
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || $sudo_ apt-get install -y -q nginx-light
# The marker tells an install with AVIF output from one without. oximg's
# `avif` feature needs dav1d >= 1.3 (dav1d-sys 0.8); Debian bookworm has
# 1.0, so there oximg is built without it and sits b-avif out.
if [ ! -e "$PEERS/oximg-avif" ]; then
    if cargo install -q oximg --version 0.18.1 --locked --features avif --force --root "$PEERS"; then
        touch "$PEERS/oximg-avif"
    elif [ ! -x "$PEERS/bin/oximg" ]; then
        echo "oximg: no AVIF (needs dav1d >= 1.3); installing without it" >&2
        cargo install -q oximg --version 0.18.1 --locked --force --root "$PEERS"
    fi
fi
# perf (Debian) and inferno (crates.io) for `run.py --flame`.
command -v perf >/dev/null || $sudo_ apt-get install -y -q linux-perf
[ -x "$PEERS/bin/inferno-flamegraph" ] || cargo install -q inferno --locked --root "$PEERS"
if [ ! -d "$PEERS/node/node_modules/sharp" ]; then
    mkdir -p "$PEERS/node"
    (cd "$PEERS/node" && npm init -y >/dev/null && npm install --silent sharp@0.34)
fi
if [ ! -x "$PEERS/venv/bin/thumbor" ]; then
    python3 -m venv "$PEERS/venv"
    "$PEERS/venv/bin/pip" install -q thumbor==7.8.0
fi
echo "peers installed in $PEERS"
