#!/usr/bin/env bash
# Start (or reuse) a throwaway PostgreSQL cluster on loopback and print its DATABASE_URL.
#   export DATABASE_URL=$(scripts/pg.sh)        # start
#   scripts/pg.sh stop                          # stop
# Runs the server as the `postgres` system user when called as root (initdb refuses root).
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$PGBIN" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
DIR=${RONGSHU_PG_DIR:-/tmp/rongshu-pg}
PORT=${RONGSHU_PG_PORT:-54329}
RUNAS=()
if [ "$(id -u)" = 0 ]; then RUNAS=(runuser -u postgres --); fi
if [ "${1:-}" = stop ]; then
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DIR" -m fast stop >/dev/null 2>&1 || true
  exit 0
fi
if [ ! -f "$DIR/PG_VERSION" ]; then
  mkdir -p "$DIR"
  if [ ${#RUNAS[@]} -gt 0 ]; then chown postgres "$DIR"; fi
  "${RUNAS[@]}" "$PGBIN/initdb" -D "$DIR" -U rongshu --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w start \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=300" >/dev/null
fi
"$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U rongshu rongshu 2>/dev/null || true
echo "postgres://rongshu@127.0.0.1:$PORT/rongshu"
