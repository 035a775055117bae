#!/usr/bin/env bash
# Schemathesis against a real Limelight, with an admin token, every check, a fixed
# seed and the stateful phase. Usage: bash .ci/schemathesis.sh [VENV]
# Starts the debug build on 127.0.0.1:18080 with a fresh SQLite data directory and
# stops it afterwards; exits with Schemathesis's status. Left out: the WebSocket, and
# logout, which would end the one token the whole run uses (tests/tests/api.rs
# covers it).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-target/ci-venv}
[ -x "$venv/bin/schemathesis" ] || "$venv/bin/pip" install -q --disable-pip-version-check 'schemathesis==4.32.5'
cargo build -q -p limelight-api
data=$(mktemp -d)
addr=127.0.0.1:18080
LIMELIGHT_DATA_DIR="$data" LIMELIGHT_ADMIN_PASSWORD=schemathesis-admin \
  LIMELIGHT_HTTP_ADDR=$addr LIMELIGHT_SACN_BIND=127.0.0.1:0 \
  target/debug/limelight >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -sf "http://$addr/readyz" >/dev/null && break
  sleep 0.1
done
token=$(curl -sf -H 'content-type: application/json' \
  -d '{"username": "admin", "password": "schemathesis-admin"}' \
  "http://$addr/api/v1/auth/login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
LIMELIGHT_URL="http://$addr" LIMELIGHT_TOKEN="$token" \
  SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=.ci \
  "$venv/bin/schemathesis" --config-file .ci/schemathesis.toml run "http://$addr/api/v1/openapi.json" \
  --url "http://$addr" -H "Authorization: Bearer $token" \
  --checks all --max-examples 25 --seed 1 \
  --exclude-path /api/v1/ws --exclude-path /api/v1/auth/logout
