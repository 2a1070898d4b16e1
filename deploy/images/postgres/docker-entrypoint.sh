#!/bin/bash
# First start: initdb into PGDATA with POSTGRES_USER and POSTGRES_PASSWORD, create
# POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sh and *.sql; then run the server.
# Started as root it hands PGDATA to postgres and drops to that user first.
set -Eeuo pipefail

if [[ "${1:0:1}" == "-" ]]; then
  set -- postgres "$@"
fi
if [[ "$1" != "postgres" ]]; then
  exec "$@"
fi

if [[ "$(id -u)" == "0" ]]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

mkdir -p "$PGDATA"
chmod 0700 "$PGDATA" 2>/dev/null || true

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [[ -z "${POSTGRES_PASSWORD:-}" && "$auth" != "trust" ]]; then
    echo "error: the database is not initialised and POSTGRES_PASSWORD is not set." >&2
    echo "  Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust, never in production)." >&2
    exit 1
  fi
  user=${POSTGRES_USER:-postgres}
  database=${POSTGRES_DB:-$user}
  read -r -a initdb_args <<<"${POSTGRES_INITDB_ARGS:-}"
  initdb --username="$user" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
    --auth-local=trust --auth-host="$auth" "${initdb_args[@]}" >/dev/null
  printf '\nlisten_addresses = %s\n' "'*'" >>"$PGDATA/postgresql.conf"
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

  # A server for the set-up steps on a socket of its own: a health check (pg_isready on the
  # usual socket) must not take it for the real server before POSTGRES_DB exists.
  setup_socket=$(mktemp -d)
  pg_ctl --pgdata="$PGDATA" --wait --silent \
    --options="-c listen_addresses='' -c unix_socket_directories='$setup_socket'" start
  export PGHOST="$setup_socket"
  psql=(psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --username="$user")
  if [[ "$database" != "postgres" ]]; then
    "${psql[@]}" --dbname=postgres --set=db="$database" <<<'CREATE DATABASE :"db";'
  fi
  shopt -s nullglob
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sh) echo "running $script"; . "$script" ;;
      *.sql) echo "running $script"; "${psql[@]}" --dbname="$database" --file="$script" ;;
      *) echo "ignoring $script" ;;
    esac
  done
  pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
  unset PGHOST
  rmdir "$setup_socket"
  echo "PostgreSQL initialised in $PGDATA"
fi

exec "$@"
