#!/usr/bin/env bash
# Run a command against a real Limelight: starts the debug build (with the media
# feature, as CI tests it) on ADDR (default
# 127.0.0.1:18080) with a fresh SQLite data directory and rate limits off (the
# tools make thousands of requests as one user), logs in as admin, runs the
# command with LIMELIGHT_URL and LIMELIGHT_TOKEN set, then stops the server.
# Usage: ADDR=127.0.0.1:18081 bash .ci/with-server.sh COMMAND [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
addr=${ADDR:-127.0.0.1:18080}
cargo build -q -p limelight-api --features media
data=$(mktemp -d)
LIMELIGHT_DATA_DIR="$data" LIMELIGHT_ADMIN_PASSWORD=ci-admin-password \
  LIMELIGHT_HTTP_ADDR=$addr LIMELIGHT_SACN_BIND=127.0.0.1:0 \
  LIMELIGHT_RATE_LIMIT_PER_MINUTE=0 LIMELIGHT_WS_RATE_LIMIT_PER_MINUTE=0 \
  LIMELIGHT_LOGIN_RATE_LIMIT_PER_MINUTE=0 \
  target/debug/limelight >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -sf "http://$addr/readyz" >/dev/null && break
  sleep 0.1
done
token=$(curl -sf -H 'content-type: application/json' \
  -d '{"username": "admin", "password": "ci-admin-password"}' \
  "http://$addr/api/v1/auth/login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
LIMELIGHT_URL="http://$addr" LIMELIGHT_TOKEN="$token" "$@"
