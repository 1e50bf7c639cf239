#!/usr/bin/env bash
# The one way Fidelis processes start: the Procfile (make run, make cluster), the container image
# and the systemd units all call this script with a process type.
#
#   entrypoint.sh web                 gunicorn on $HOST:$PORT ($WEB_SERVER=runserver: Django's dev server)
#   entrypoint.sh worker [QUEUES]     a Celery worker on QUEUES (comma-separated; default: all of them)
#   entrypoint.sh beat                the scheduler (exactly one per installation)
#   entrypoint.sh migrate             apply migrations (run once per release, before the web nodes)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python)}"
case "$PY" in */*) BIN="$(dirname "$PY")/" ;; *) BIN="" ;; esac  # a bare "python": tools from PATH

case "${1:-}" in
  web)
    if [ "${WEB_SERVER:-gunicorn}" = "runserver" ]; then
      exec "$PY" manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}"
    fi
    exec "${BIN}gunicorn" config.wsgi --bind "${HOST:-127.0.0.1}:${PORT:-8000}" \
      --workers "${WEB_CONCURRENCY:-2}" --access-logfile - --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
    ;;
  worker)
    queues="${2:-}"
    exec "${BIN}celery" -A config worker --loglevel "${LOG_LEVEL:-INFO}" --concurrency "${WORKER_CONCURRENCY:-2}" \
      ${queues:+--queues "$queues"} ${queues:+--hostname "${queues//,/-}@%h"}
    ;;
  beat)
    exec "${BIN}celery" -A config beat --loglevel "${LOG_LEVEL:-INFO}" --pidfile=
    ;;
  migrate)
    exec "$PY" manage.py migrate --noinput
    ;;
  *)
    echo "usage: $0 web | worker [QUEUES] | beat | migrate" >&2
    exit 2
    ;;
esac
