# Fidelis: `make run` serves the demo, `make test` runs the whole suite. Only Python 3.11+ and make needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Another HOST or PORT (`make run PORT=8010`): links in the printed logins and in emails follow it.
RUN_SITE_URL := $(if $(filter-out 127.0.0.1:8000,$(HOST):$(PORT)),SITE_URL=http://$(HOST):$(PORT))

.PHONY: run test lint bench bench-1m worker beat cluster cluster-check messages clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

.env:
	cp .env.example .env

run: $(VENV)/.installed .env
	$(PY) manage.py migrate --noinput
	$(RUN_SITE_URL) $(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@# honcho runs the Procfile's process types in one group: Ctrl-C stops all of them, beat included.
	@procs="web beat"; if grep -qsE "^(REDIS_URL|CELERY_BROKER_URL)=." .env || [ -n "$$REDIS_URL$$CELERY_BROKER_URL" ]; then procs="web worker beat"; fi; \
	  $(RUN_SITE_URL) WEB_SERVER=runserver HOST=$(HOST) $(VENV)/bin/honcho start --port $(PORT) $$procs

test: $(VENV)/.installed .env
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed .env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

# Benchmarks need PostgreSQL and Redis (defaults: the local services) and wrk (Debian package).
BENCH_DB ?= fidelis_bench
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
bench: $(VENV)/.installed .env
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	@psql "$(BENCH_PG)/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DB)'" | grep -q 1 \
	  || psql "$(BENCH_PG)/postgres" -qc 'CREATE DATABASE "$(BENCH_DB)"'
	DATABASE_URL=$(BENCH_PG)/$(BENCH_DB) REDIS_URL=$(BENCH_REDIS_URL) $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_PG)/$(BENCH_DB) REDIS_URL=$(BENCH_REDIS_URL) $(PY) bench/run.py $(BENCH_ARGS)

# Two web nodes behind haproxy, PgBouncer, a streaming replica, a worker per queue and beat, on
# loopback (needs PostgreSQL, Redis and Debian's haproxy and pgbouncer); cluster-check runs the
# black-box API checks against it and stops.
cluster: $(VENV)/.installed .env
	deploy/cluster.sh serve

cluster-check: $(VENV)/.installed .env
	deploy/cluster.sh check
# The same, plus the jobs, admin pages and selectors on a second database of 1M members and 10M
# ledger entries (seeded once with COPY; see README "Benchmarks" for how long that takes), with the
# growth exponent between the two sizes.
BENCH_DB_LARGE ?= fidelis_bench_1m
bench-1m: $(VENV)/.installed .env
	@psql "$(BENCH_PG)/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DB_LARGE)'" | grep -q 1 \
	  || psql "$(BENCH_PG)/postgres" -qc 'CREATE DATABASE "$(BENCH_DB_LARGE)"'
	DATABASE_URL=$(BENCH_PG)/$(BENCH_DB_LARGE) REDIS_URL=$(BENCH_REDIS_URL) $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_PG)/$(BENCH_DB_LARGE) REDIS_URL=$(BENCH_REDIS_URL) $(PY) bench/seed.py 1M
	$(MAKE) bench BENCH_ARGS="--large $(BENCH_DB_LARGE) $(BENCH_ARGS)"

worker: $(VENV)/.installed .env
	deploy/entrypoint.sh worker $(QUEUES)

beat: $(VENV)/.installed .env
	deploy/entrypoint.sh beat

# Refresh the .po files after changing member-facing strings (needs GNU gettext; the compiled
# .mo files are committed, so running the product never does).
messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l ro -l it -l ru --no-obsolete --ignore ".venv/*" --ignore "staticfiles/*" --ignore "tests/*" --ignore "bench/*"
	$(PY) manage.py compilemessages --ignore ".venv/*"

clean:
	rm -rf $(VENV) staticfiles
