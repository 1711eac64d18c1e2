# EvidencePress: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
PYTEST_WORKERS ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint typecheck pytest test-postgres bench-ingest system-deps clean help

help:
	@echo "make run            set up .venv, migrate, load the demo, serve http://127.0.0.1:8000"
	@echo "make test           lint, checks, type checks and the test suite (SQLite)"
	@echo "make test-postgres  the test suite against a throwaway PostgreSQL cluster"
	@echo "make bench-ingest   the import benchmark (writes bench/results/ingest.json)"

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "EvidencePress needs Python 3.11 (found %s)" % sys.version.split()[0]'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements/dev.txt
	touch $@

system-deps:
	@bash scripts/system-deps.sh chromium fonts-dejavu-core

run: $(VENV)/.installed
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
	$(MANAGE) ensure_admin
	$(MANAGE) runserver 127.0.0.1:8000

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

pytest: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=evidencepress.settings.test $(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test: $(VENV)/.installed system-deps lint typecheck
	DJANGO_SETTINGS_MODULE=evidencepress.settings.test $(MANAGE) check
	DJANGO_SETTINGS_MODULE=evidencepress.settings.test $(MANAGE) makemigrations --check --dry-run
	DJANGO_SECRET_KEY=check-deploy-$$RANDOM$$RANDOM$$RANDOM-not-a-real-secret-key-0123456789abcdef \
	  DATABASE_URL=sqlite:///$$(mktemp -d)/deploy-check.sqlite3 ALLOWED_HOSTS=example.org \
	  DJANGO_SETTINGS_MODULE=evidencepress.settings.production $(MANAGE) check --deploy --fail-level WARNING
	$(MAKE) pytest PYTEST_ARGS="--create-db $(PYTEST_ARGS)"

test-postgres: $(VENV)/.installed system-deps
	bash scripts/with-postgres.sh $(MAKE) pytest PYTEST_ARGS="--create-db $(PYTEST_ARGS)"

bench-ingest: $(VENV)/.installed
	$(PY) bench/ingest.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
