#!/usr/bin/env bash
# `make cluster`: Fidelis as it runs on several machines, on one machine's loopback ports.
#   haproxy :8400 -> two gunicorn web nodes (:8401, :8402)   (the Procfile's "web", twice)
#   PgBouncer :6442 (transaction mode) -> PostgreSQL :5432, a streaming replica on :5434
#   one Celery worker per queue and beat (the Procfile's worker-* and beat), Redis db 12
# deploy/cluster.sh serve   runs until Ctrl-C;   deploy/cluster.sh check   runs the black-box API
# checks (deploy/check_cluster.py) against it, then stops everything (exit code = the checks').
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-serve}"
dir="${CLUSTER_DIR:-/tmp/fidelis-cluster}"
base="${CLUSTER_PORT:-8400}"
db="${CLUSTER_DB:-fidelis_cluster}"
redis="${CLUSTER_REDIS_URL:-redis://127.0.0.1:6379/12}"
bouncer_port="${CLUSTER_PGBOUNCER_PORT:-6442}" replica_port="${CLUSTER_REPLICA_PORT:-5434}"
PY="${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python)}"
case "$PY" in */*) BIN="$(dirname "$PY")/" ;; *) BIN="" ;; esac  # a bare "python": tools from PATH
command -v haproxy >/dev/null && command -v pgbouncer >/dev/null || {
  echo "make cluster needs Debian's haproxy and pgbouncer: apt-get install -y haproxy pgbouncer" >&2; exit 2; }

rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$dir"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  deploy/pgbouncer.sh stop "$dir/pgbouncer"
  deploy/pg-replica.sh stop "$dir/replica"
}
trap cleanup EXIT

# A fresh demo program each time (the database is the cluster's own).
psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\""
direct="postgres://postgres@127.0.0.1:5432/$db"
DATABASE_URL="$direct" REDIS_URL="$redis" "$PY" manage.py migrate --noinput -v0
DATABASE_URL="$direct" REDIS_URL="$redis" "$PY" manage.py seed_demo >/dev/null
DATABASE_URL="$direct" "$PY" manage.py collectstatic --noinput -v0
deploy/pgbouncer.sh start "$dir/pgbouncer" "$bouncer_port"
deploy/pg-replica.sh start "$dir/replica" "$replica_port"

export ENV_FILE=/dev/null DEBUG=false SECRET_KEY="cluster-$(date +%s)-not-for-production" SECURE_SSL_REDIRECT=false \
  ALLOWED_HOSTS=127.0.0.1,localhost SITE_URL="http://127.0.0.1:$base" REDIS_URL="$redis" \
  DATABASE_URL="postgres://postgres@127.0.0.1:$bouncer_port/$db" DATABASE_DISABLE_SERVER_SIDE_CURSORS=true \
  DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:$replica_port/$db" CONN_MAX_AGE=0 \
  WEB_CONCURRENCY=2 WORKER_CONCURRENCY=1 EMAIL_URL="filemail:///$dir/mail" PYTHON="$PY"
"${BIN}honcho" start --env /dev/null --port "$((base + 1))" --concurrency web=2 \
  web worker-default worker-webhooks worker-bulk worker-reports worker-maintenance beat > "$dir/processes.log" 2>&1 &
pids+=($!)

cat > "$dir/haproxy.cfg" <<CFG
global
  maxconn 2000
defaults
  mode http
  retries 3
  option redispatch
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout queue 60s
  timeout check 10s
frontend fidelis
  bind 127.0.0.1:$base
  default_backend web
backend web
  balance roundrobin
  option httpchk GET /healthz
  option forwardfor
  http-response set-header X-Served-By %[srv_name]
  # A sync gunicorn worker serves one request at a time: the proxy queues the rest (maxconn), so a
  # burst waits here instead of piling up behind a node's health check.
  default-server check inter 1s rise 1 fall 3 maxconn 4
  server web1 127.0.0.1:$((base + 1))
  server web2 127.0.0.1:$((base + 2))
CFG
haproxy -db -f "$dir/haproxy.cfg" > "$dir/haproxy.log" 2>&1 &
pids+=($!)

# Up when both nodes answer through the proxy (four health checks in a row pass).
ok=0
for _ in $(seq 1 300); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$base/healthz")" = 200 ]; then
    ok=$((ok + 1)); [ "$ok" -ge 4 ] && break
  else
    ok=0
  fi
  sleep 1
done
[ "$ok" -ge 4 ] || { tail -50 "$dir/processes.log"; tail "$dir/haproxy.log"; exit 1; }
echo "cluster up: http://127.0.0.1:$base (haproxy) -> web :$((base + 1)), :$((base + 2)); logs in $dir"

if [ "$mode" = check ]; then
  key_a="$(DATABASE_URL="$direct" "$PY" manage.py partner_key "Downtown Store" --name cluster-check 2>/dev/null)"
  key_b="$(DATABASE_URL="$direct" "$PY" manage.py partner_key "Web Shop" --name cluster-check 2>/dev/null)"
  "$PY" deploy/check_cluster.py "http://127.0.0.1:$base" "$key_a" "$key_b"
else
  wait "${pids[0]}"
fi
