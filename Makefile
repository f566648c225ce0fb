# Lectern's everyday commands. Two are enough to start:
#   make run    install, migrate, seed the demo accounts and serve http://127.0.0.1:8000
#   make test   run the whole test suite (browser tests included when chromium is installed)

.DEFAULT_GOAL := help
SHELL := /bin/sh

PORT ?= 8000
# Development defaults for the commands below; production sets its own environment.
DEBUG ?= 1
# Extra flags for `uv sync` (CI passes --locked so a stale uv.lock fails loudly).
UV_SYNC_FLAGS ?=
PYTEST_ARGS ?=
# Test processes in parallel (pytest-xdist): one per core by default, 1 for a single process.
# Each test file runs whole in one process (the fuzz suite counts its cases across its file).
TEST_WORKERS ?= auto

VENV := .venv
PY := $(VENV)/bin/python
DJANGO := DEBUG=$(DEBUG) $(PY) manage.py
# Every app's templates/ folder, plus the project-level one.
TEMPLATE_DIRS = $(filter-out node_modules/% var/%,$(sort $(wildcard templates */templates)))

.PHONY: help setup install python-env migrate seed run test lint format worker beat

help:
	@echo "make run      install, migrate, seed demo data and serve on 127.0.0.1:\$$PORT (default 8000);"
	@echo "             without REDIS_URL it also runs the periodic jobs inline (manage.py run_periodic)"
	@echo "make test     run the whole test suite"
	@echo "make setup    install Python and front-end dependencies (also: make install)"
	@echo "make lint     ruff, ruff format --check, djlint, mypy and the import contracts"
	@echo "make audit    bandit, pip-audit, npm audit and Django's deployment checklist"
	@echo "make format   apply ruff and djlint formatting"
	@echo "make migrate  apply database migrations"
	@echo "make seed     create the demo accounts (safe to run again)"
	@echo "make worker   run a Celery worker (needs REDIS_URL)"
	@echo "make beat     run Celery beat, the periodic-job scheduler (needs REDIS_URL)"
	@echo "make backup   back up the database and uploaded files to var/backups/<time> (or BACKUP=path)"
	@echo "make restore  restore BACKUP=path into an empty database and media folder, then check it"

# --- Installing -----------------------------------------------------------------

# The front-end libraries pages load from our own origin (scripts/vendor-static copies them).
# Defined before the rule that needs them: make reads a rule's prerequisites as it meets it.
VENDORED := static/vendor/htmx.min.js static/vendor/livekit-client.umd.js static/vendor/axe.min.js

setup install: python-env $(VENDORED)

# uv is quick when nothing changed, so the environment is synced on every call.
python-env:
	@python=$$(scripts/find-python) || exit 1; \
	uv=$$(scripts/ensure-uv "$$python") || exit 1; \
	echo "Using $$python"; \
	UV_PYTHON_DOWNLOADS=never "$$uv" sync --python "$$python" $(UV_SYNC_FLAGS)

node_modules/.package-lock.json: package.json $(wildcard package-lock.json)
	@command -v npm >/dev/null 2>&1 || { \
	  echo "npm is needed to fetch the front-end libraries: install Node.js 18+ (e.g. apt-get install nodejs npm)."; \
	  exit 1; }
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; \
	else npm install --no-audit --no-fund; fi
	@touch $@

$(VENDORED) &: node_modules/.package-lock.json scripts/vendor-static
	@scripts/vendor-static

# --- Running ---------------------------------------------------------------------

migrate: install
	$(DJANGO) migrate --noinput

seed: migrate
	$(DJANGO) seed_demo

# runserver is for development only; production serves the app with gunicorn
# (see the Dockerfile and docker-compose.yml). Without Redis there is no Celery
# beat, so the periodic jobs (retention sweeps, due deletions, reminders, digests)
# run inline in a background process that stops when the server does. (runserver
# is not the shell's last command, so the shell stays to run the EXIT trap.)
# Emailed links name the address served here unless SITE_URL says otherwise
# (empty counts as unset, as in the settings).
run: export SITE_URL := $(or $(SITE_URL),http://127.0.0.1:$(PORT))
run: seed
	@echo "Serving Lectern on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	@if [ -z "$$REDIS_URL" ]; then \
	  $(DJANGO) run_periodic & periodic=$$!; \
	  trap 'kill $$periodic 2>/dev/null' EXIT; \
	  trap 'exit 130' INT TERM; \
	else \
	  echo "REDIS_URL is set: run 'make worker' and 'make beat' for background and periodic jobs."; \
	fi; \
	$(DJANGO) runserver 127.0.0.1:$(PORT); status=$$?; exit $$status

worker: install
	@[ -n "$$REDIS_URL" ] || { echo "Set REDIS_URL: without it tasks already run inline."; exit 1; }
	DEBUG=$(DEBUG) $(VENV)/bin/celery -A config worker --queues=celery,ai --loglevel=INFO

beat: install
	@[ -n "$$REDIS_URL" ] || { echo "Set REDIS_URL: without it there is no queue to schedule onto."; exit 1; }
	@mkdir -p var
	DEBUG=$(DEBUG) $(VENV)/bin/celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule

# --- Backups ---------------------------------------------------------------------
# Neither installs anything first: they run from cron on production servers as they are.
# BACKUP names a new folder, or a file ending in .tar for one archive (manage.py backup --help).
# FORCE=1 lets restore drop what is already in the database (manage.py restore --help).

.PHONY: backup restore

backup:
	@[ -x $(PY) ] || { echo "No $(VENV) here yet: run 'make setup' first."; exit 1; }
	$(DJANGO) backup $(if $(BACKUP),--output "$(BACKUP)")

restore:
	@[ -n "$(BACKUP)" ] || { echo "Say which backup: make restore BACKUP=var/backups/<time>"; exit 1; }
	@[ -x $(PY) ] || { echo "No $(VENV) here yet: run 'make setup' first."; exit 1; }
	$(DJANGO) restore "$(BACKUP)" $(if $(FORCE),--force)

# --- Checking --------------------------------------------------------------------

# Uses DATABASE_URL / REDIS_URL when they are set, SQLite and local memory otherwise.
test: install
	$(PY) -m pytest --numprocesses=$(TEST_WORKERS) --dist=loadfile $(PYTEST_ARGS)

# mypy's Django plugin imports the settings, which want a SECRET_KEY outside DEBUG.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djlint $(TEMPLATE_DIRS) --check
	$(VENV)/bin/djlint $(TEMPLATE_DIRS) --lint
	SECRET_KEY=lint-only-secret-key $(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache

# bandit, pip-audit (uv.lock), npm audit (package-lock.json) and `check --deploy` with
# production settings. Findings fail; an advisory service that can't be reached is
# reported as SKIPPED (scripts/audit explains).
.PHONY: audit
audit: install
	$(PY) scripts/audit

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/djlint $(TEMPLATE_DIRS) --reformat
