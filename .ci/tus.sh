#!/usr/bin/env bash
# A tus client nobody here wrote (tuspy, from PyPI) uploads an image to a real
# Limelight in small chunks, stops halfway, resumes from the server's offset, and
# checks the asset it became. Usage: bash .ci/tus.sh [VENV]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-target/ci-venv}
"$venv/bin/pip" install -q --disable-pip-version-check 'tuspy==1.1.0'
ADDR=127.0.0.1:18081 bash .ci/with-server.sh "$venv/bin/python" tests/tus/tuspy_upload.py
