#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster on a unix socket, then stop and remove it.
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]   (DATABASE_URL is set for COMMAND)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  bash "$here/system-deps.sh" postgresql
fi
pgbin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)")
dir=$(mktemp -d /tmp/evidencepress-pg.XXXXXX)
chmod 755 "$dir"
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
stop() {
  as_owner "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
as_owner "$pgbin/initdb" -D "$dir/data" -A trust -U evidencepress -E UTF8 --no-sync >/dev/null
# Durability settings are off: this cluster lives for one test run only.
as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-k $dir -c listen_addresses='' -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=50" \
  start >/dev/null
as_owner "$pgbin/createdb" -h "$dir" -U evidencepress evidencepress
socket=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$dir")
export DATABASE_URL="postgres://evidencepress@${socket}/evidencepress"
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') running on $dir"
"$@"
