#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1:${LIMELIGHT_PG_PORT:-55432} (trust auth,
# loopback only) unless one already answers there. Idempotent.
set -euo pipefail
port="${LIMELIGHT_PG_PORT:-55432}"
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
data="/var/tmp/limelight-pg-$port"
if "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  exit 0
fi
rm -rf "$data"
mkdir -p "$data"
chown postgres:postgres "$data"
# initdb refuses to run as root.
runuser -u postgres -- "$pgbin/initdb" -D "$data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$data" -w -l "$data/server.log" \
  -o "-h 127.0.0.1 -p $port -k /tmp -c max_connections=300 -c fsync=off" start >/dev/null
"$pgbin/pg_isready" -h 127.0.0.1 -p "$port"
