#!/usr/bin/env bash
# Schemathesis against a real Limelight (see .ci/with-server.sh), with an admin
# token, every check, a fixed seed and the stateful phase. Usage: bash
# .ci/schemathesis.sh [VENV]. Left out: the WebSocket; logout, which would end the
# one token the whole run uses (tests/tests/api.rs covers it); and the tus upload
# protocol, which lives in headers the document does not describe (tuspy in
# .ci/tus.sh and tests/tests/content.rs cover it).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-target/ci-venv}
[ -x "$venv/bin/schemathesis" ] || "$venv/bin/pip" install -q --disable-pip-version-check 'schemathesis==4.32.5'
run() {
  SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=.ci \
    "$venv/bin/schemathesis" --config-file .ci/schemathesis.toml run "$LIMELIGHT_URL/api/v1/openapi.json" \
    --url "$LIMELIGHT_URL" -H "Authorization: Bearer $LIMELIGHT_TOKEN" \
    --checks all --max-examples 25 --seed 1 \
    --exclude-path /api/v1/ws --exclude-path /api/v1/auth/logout \
    --exclude-path-regex '^/api/v1/uploads'
}
export -f run
export venv
bash .ci/with-server.sh bash -c run
