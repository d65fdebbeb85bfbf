#!/usr/bin/env bash
# Screenshots of the API docs as a person sees them, with no network but the service itself: serves a fresh
# SQLite demo on a free local port, points headless Chromium (Debian's `chromium`) at /docs and /redoc with every
# other host unreachable, and writes docs/screenshots/docs.png and redoc.png. Usage: bash docs/screenshots/take.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/screenshots
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PEER_MATCH_DATA_DIR="$data" PEER_MATCH_PORT="$port"
.venv/bin/peer-match migrate >/dev/null
.venv/bin/peer-match serve >"$data/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
for page in docs redoc; do
  # Every host but the service resolves nowhere: a page that still loads anything from a CDN shows it blank.
  chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1600 \
    --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" --virtual-time-budget=8000 \
    --screenshot="$out/$page.png" "http://127.0.0.1:$port/$page" >/dev/null 2>&1
  echo "$out/$page.png"
done
