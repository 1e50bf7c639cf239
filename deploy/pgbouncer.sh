#!/usr/bin/env bash
# PgBouncer in transaction mode in front of the local PostgreSQL, for CI's pooled run and
# `make cluster`:  deploy/pgbouncer.sh start DIR PORT  |  deploy/pgbouncer.sh stop DIR
# Point DATABASE_URL at 127.0.0.1:PORT and set DATABASE_DISABLE_SERVER_SIDE_CURSORS=true.
set -euo pipefail
action="${1:?start|stop}" dir="${2:?run directory}" port="${3:-6432}"
upstream_host="${PGHOST_PRIMARY:-127.0.0.1}" upstream_port="${PGPORT_PRIMARY:-5432}"
as_postgres() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }

case "$action" in
  start)
    mkdir -p "$dir"
    cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=$upstream_host port=$upstream_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
admin_users = postgres
INI
    echo '"postgres" ""' > "$dir/userlist.txt"
    chown -R postgres: "$dir" 2>/dev/null || true
    as_postgres pgbouncer -d "$dir/pgbouncer.ini"
    for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -p "$port" -q && break; sleep 0.2; done
    echo "pgbouncer (transaction mode) on 127.0.0.1:$port -> $upstream_host:$upstream_port"
    ;;
  stop)
    [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR [PORT] | stop DIR" >&2; exit 2 ;;
esac
