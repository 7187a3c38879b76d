#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests: `scripts/postgres.sh start DIR [PORT]` initialises DIR (owned by
# the `postgres` user when run as root), starts the server on 127.0.0.1:PORT (default: a free port) with its
# unix socket in DIR/socket and fsync off, and prints the admin URL (a DIR stopped before is started again, data
# kept); `scripts/postgres.sh stop DIR [MODE]` stops it.
# Nothing is durable: the cluster exists only for one test run. PG_EXTRA_OPTIONS adds server options (`-c name=value`,
# later ones win: `-c synchronous_commit=on` for a test that crashes the server and counts commits).
set -euo pipefail
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
command=${1:-}
dir=${2:-}
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        # `su` needs a command string; every argument here is quoted by printf %q.
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    else
        "$@"
    fi
}

case "$command" in
start)
    port=${3:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
    mkdir -p "$dir/socket"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$dir"; fi
    # A DIR that already holds a cluster (stopped with `stop`) is started again as it was: the fault tests stop
    # PostgreSQL under a running server and bring it back at the same address.
    if [ ! -d "$dir/data" ]; then
        as_owner "$BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir/socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 ${PG_EXTRA_OPTIONS:-}" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    # MODE (third argument): immediate (default: the cluster is thrown away) or fast (a clean stop, as
    # `systemctl stop postgresql` does: sessions are ended, committed work is kept).
    [ -d "$dir/data" ] && as_owner "$BIN/pg_ctl" -D "$dir/data" -m "${3:-immediate}" -w stop >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
