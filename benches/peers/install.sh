#!/usr/bin/env bash
# Installs what the peer benchmark runs, from the registries only, into
# $PEERS (default ~/.cache/pixgate-peers). Idempotent: installed pieces are kept.
#   oximg 0.18.1  (crates.io)  a Rust resize server
#   sharp 0.34    (npm)        libvips, behind benches/peers/sharp-server.js
#   thumbor 7.8.0 (PyPI)       Pillow-based
#   wrk           (Debian)     the load generator
set -euo pipefail
PEERS=${PEERS:-$HOME/.cache/pixgate-peers}
mkdir -p "$PEERS"
if ! command -v wrk >/dev/null; then
    sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
    $sudo_ apt-get install -y -q wrk
fi
[ -x "$PEERS/bin/oximg" ] ||
    cargo install -q oximg --version 0.18.1 --locked --root "$PEERS"
if [ ! -d "$PEERS/node/node_modules/sharp" ]; then
    mkdir -p "$PEERS/node"
    (cd "$PEERS/node" && npm init -y >/dev/null && npm install --silent sharp@0.34)
fi
if [ ! -x "$PEERS/venv/bin/thumbor" ]; then
    python3 -m venv "$PEERS/venv"
    "$PEERS/venv/bin/pip" install -q thumbor==7.8.0
fi
echo "peers installed in $PEERS"
