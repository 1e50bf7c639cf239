#!/usr/bin/env bash
# A streaming read replica of the local PostgreSQL on another port, for CI's router tests and
# `make cluster`:  deploy/pg-replica.sh start DIR PORT  |  deploy/pg-replica.sh stop DIR
# Needs the primary to accept replication connections from loopback (the script adds that line to
# pg_hba.conf when missing) and PostgreSQL's server binaries; runs the standby as user postgres.
set -euo pipefail
action="${1:?start|stop}" dir="${2:?data directory}" port="${3:-5433}"
primary_host="${PGHOST_PRIMARY:-127.0.0.1}" primary_port="${PGPORT_PRIMARY:-5432}"
bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as_postgres() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }

case "$action" in
  start)
    hba="$(psql -h "$primary_host" -p "$primary_port" -U postgres -tAc 'SHOW hba_file')"
    if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$hba"; then
      echo "host replication all 127.0.0.1/32 trust" >> "$hba"
      psql -h "$primary_host" -p "$primary_port" -U postgres -qtAc 'SELECT pg_reload_conf()' >/dev/null
    fi
    rm -rf "$dir" && mkdir -p "$dir" && chown postgres: "$dir" 2>/dev/null || true
    chmod 700 "$dir"
    as_postgres "$bindir/pg_basebackup" -h "$primary_host" -p "$primary_port" -U postgres -D "$dir" -R -X stream -c fast
    # Debian keeps the primary's configuration outside its data directory: give the standby its own.
    printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nhot_standby = on\nhot_standby_feedback = on\n" \
      "$port" "$dir" > "$dir/postgresql.conf"
    printf "local all all trust\nhost all all 127.0.0.1/32 trust\n" > "$dir/pg_hba.conf"
    : > "$dir/pg_ident.conf"
    chown postgres: "$dir"/*.conf 2>/dev/null || true
    as_postgres "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 300 start >/dev/null
    psql -h 127.0.0.1 -p "$port" -U postgres -tAc 'SELECT pg_is_in_recovery()' | grep -q t
    echo "replica on 127.0.0.1:$port streaming from $primary_host:$primary_port"
    ;;
  stop)
    [ -f "$dir/postmaster.pid" ] && as_postgres "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR [PORT] | stop DIR" >&2; exit 2 ;;
esac
