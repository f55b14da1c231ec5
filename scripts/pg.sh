# Sourced by scripts/test.sh: a throwaway PostgreSQL server from Debian's packages, run as
# an unprivileged user from a temporary directory on a free loopback port (no system
# service, nothing left behind). `pg_start` exports MAESTRO_TEST_DATABASE_URL (and
# MAESTRO_TEST_PG_RESTART, the command that restarts it); `pg_stop`
# stops it and removes its files.

pg_start() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$PG_BIN/initdb" ] || { echo "pg: PostgreSQL is not installed (scripts/setup.sh installs it)" >&2; return 1; }
  PG_DIR=$(mktemp -d /tmp/maestro-pg.XXXXXX)
  PG_AS=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DIR"
    PG_AS=(runuser -u postgres --)
  fi
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  export MAESTRO_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  # How the two-node test restarts the database under the running servers.
  export MAESTRO_TEST_PG_RESTART="${PG_AS[*]} $PG_BIN/pg_ctl -D $PG_DIR/data -l $PG_DIR/log -w -t 30 -m fast restart"
  echo "pg: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
  unset MAESTRO_TEST_DATABASE_URL MAESTRO_TEST_PG_RESTART
}
