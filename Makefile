# healthspace: `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/healthspace
REDIS_TEST_URL ?= redis://127.0.0.1:6379/0
WEASYPRINT_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
BUILD_DEBS := gettext
BROWSER_DEBS := chromium
BENCH_DEBS := wrk postgresql-client

.PHONY: help run test check-deploy typecheck test-sqlite test-postgres test-browser bench lint install system-deps browser-deps services messages

help:
	@echo "make run   - install, migrate, seed the demo, serve on http://$(HOST):$(PORT)"
	@echo "make test  - install and run the whole suite (SQLite, then PostgreSQL + Redis + Celery, then browser)"
	@echo "make bench - the production stack under load: prints a table, writes var/bench/results/*.json"
	@echo "make lint  - ruff and mypy"

# --- installation -----------------------------------------------------------
$(PY):
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[dev]'
	@touch $@

install: system-deps $(VENV)/.installed

# Debian packages: installed when missing if we are root, otherwise we stop
# and print the exact command to run.
define need_debs
	@missing=""; for pkg in $(1); do dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    (apt-get install -y -qq $$missing >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq $$missing)) || exit 1; \
	  else \
	    echo "Missing Debian packages:$$missing. Run:"; echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
endef

system-deps:
	$(call need_debs,$(WEASYPRINT_DEBS) $(BUILD_DEBS))

browser-deps:
	$(call need_debs,$(BROWSER_DEBS))

messages: $(VENV)/.installed
	@$(PY) manage.py compilemessages --ignore=.venv -v0

# --- the demo -----------------------------------------------------------------
run: install messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "healthspace is served on http://$(HOST):$(PORT) (demo accounts in README.md)"
	$(VENV)/bin/uvicorn healthspace.asgi:application --host $(HOST) --port $(PORT)

# --- tests --------------------------------------------------------------------
# Start the machine's PostgreSQL and Redis when installed but down.
services:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then \
	    echo "Starting PostgreSQL"; pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; \
	    for i in $$(seq 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done; \
	  fi; \
	fi
	@if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then \
	  if command -v redis-server >/dev/null; then \
	    echo "Starting Redis"; redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; \
	    for i in $$(seq 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done; \
	  fi; \
	fi

test: install messages
	$(MAKE) --no-print-directory check-deploy
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres
	$(MAKE) --no-print-directory test-browser

# Django's deployment checks and ours, with production settings: fresh random keys and
# addresses that are never contacted (`check` opens no database or Redis connection).
check-deploy: install
	@echo "== manage.py check --deploy with production settings =="
	@HEALTHSPACE_ENV=production \
	SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	DOCUMENT_MASTER_KEYS="check:$$($(PY) -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" \
	JOURNAL_KEYS="check:$$($(PY) -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" \
	JOURNAL_SIGNING_KEY="$$($(PY) -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" \
	DATABASE_URL=postgres://healthspace@127.0.0.1:9/healthspace REDIS_URL=redis://127.0.0.1:9/0 \
	ALLOWED_HOSTS=health.example.org SITE_URL=https://health.example.org \
	$(PY) manage.py check --deploy --fail-level WARNING

test-sqlite: install
	@echo "== Suite on SQLite (embedded default) =="
	$(VENV)/bin/pytest -m "not integration and not browser"

test-postgres: install services
	@if ! (command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432); then \
	  echo "SKIPPED: PostgreSQL is not installed on this machine (nothing listens on 127.0.0.1:5432)."; exit 0; fi; \
	if ! (command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1); then \
	  echo "SKIPPED: Redis is not installed on this machine (nothing answers on 127.0.0.1:6379)."; exit 0; fi; \
	echo "== Suite on PostgreSQL + Redis, with a real Celery worker =="; \
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) $(VENV)/bin/pytest -m "not browser"

test-browser: install browser-deps
	@echo "== Browser tests (Playwright on Debian's Chromium, axe-core) =="
	$(VENV)/bin/pytest -m browser

# The production stack on this machine (PostgreSQL, Redis, Celery, uvicorn), the seeded
# population, wrk: see bench/run.py and README "Performance". Not part of `make test`.
bench: install messages services
	$(call need_debs,$(BENCH_DEBS))
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "make bench needs PostgreSQL on 127.0.0.1:5432"; exit 1; }
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "make bench needs Redis on 127.0.0.1:6379"; exit 1; }
	$(PY) -m bench.run

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory typecheck

# mypy with django-stubs on apps/, healthspace/, bench/ (settings in pyproject.toml [tool.mypy]);
# incremental: .mypy_cache makes the second run fast.
typecheck: install
	@echo "== mypy (django-stubs) =="
	$(VENV)/bin/mypy
