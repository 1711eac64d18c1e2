# EvidencePress: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
PYTEST_WORKERS ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run system-deps-run test lint typecheck semgrep pytest test-postgres bench-ingest bench-summaries bench-synthesis bench-serve export-static security-full audit system-deps clean help

help:
	@echo "make run            set up .venv, migrate, load the demo, serve http://127.0.0.1:8000"
	@echo "make test           lint, checks, type checks and the test suite (SQLite)"
	@echo "make test-postgres  the test suite against a throwaway PostgreSQL cluster"
	@echo "make bench-ingest   the import benchmark (writes bench/results/ingest.json)"
	@echo "make bench-summaries  drafting one summary on 10,000 cases (bench/results/summaries.json)"
	@echo "make bench-synthesis  one topic summary and swimmer plot on 10,000 cases (bench/results/synthesis.json)"
	@echo "make bench-serve    requests/s of the public pages, static vs Wagtail vs ours vs page cache (bench/results/serve.json)"
	@echo "make export-static  write the public site as static files to var/static-site/"
	@echo "make security-full  nightly security checks: semgrep, fuzzing, soak, kill -9, backups, sqlmap (docs/security.md)"
	@echo "make audit          pip-audit --strict of the pinned requirements (fails when no vulnerability data is reachable)"

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "EvidencePress needs Python 3.11 (found %s)" % sys.version.split()[0]'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements/dev.txt
	touch $@

# What the site needs to run (WeasyPrint's PDF libraries and a font) ...
RUN_DEBS := fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0

system-deps-run:
	@bash scripts/system-deps.sh $(RUN_DEBS)

# ... and what the tests add: Debian's chromium for the browser tests.
system-deps:
	@bash scripts/system-deps.sh chromium $(RUN_DEBS)

run: $(VENV)/.installed system-deps-run
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
	$(MANAGE) ensure_admin
	$(MANAGE) runserver 127.0.0.1:8000

# semgrep with the project's local rules (security/semgrep/, plan H3): no registry, no metrics.
SEMGREP_VENV := var/semgrep-venv
$(SEMGREP_VENV)/.installed: requirements/semgrep.txt
	test -x $(SEMGREP_VENV)/bin/python || $(PYTHON) -m venv $(SEMGREP_VENV)
	$(SEMGREP_VENV)/bin/pip install --quiet -r requirements/semgrep.txt
	touch $@

semgrep: $(SEMGREP_VENV)/.installed
	$(SEMGREP_VENV)/bin/semgrep scan --metrics=off --disable-version-check --error --quiet \
	  --config security/semgrep evidencepress

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

pytest: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=evidencepress.settings.test $(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test: $(VENV)/.installed system-deps lint typecheck semgrep
	DJANGO_SETTINGS_MODULE=evidencepress.settings.test $(MANAGE) check
	DJANGO_SETTINGS_MODULE=evidencepress.settings.test $(MANAGE) makemigrations --check --dry-run
	DJANGO_SECRET_KEY=check-deploy-$$RANDOM$$RANDOM$$RANDOM-not-a-real-secret-key-0123456789abcdef \
	  DATABASE_URL=sqlite:///$$(mktemp -d)/deploy-check.sqlite3 ALLOWED_HOSTS=example.org \
	  SUMMARIES_ENCRYPTION_KEYS=$$($(PY) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())') \
	  DJANGO_SETTINGS_MODULE=evidencepress.settings.production $(MANAGE) check --deploy --fail-level WARNING
	$(MAKE) pytest PYTEST_ARGS="--create-db $(PYTEST_ARGS)"

test-postgres: $(VENV)/.installed system-deps
	bash scripts/with-postgres.sh $(MAKE) pytest PYTEST_ARGS="--create-db $(PYTEST_ARGS)"

bench-ingest: $(VENV)/.installed
	$(PY) bench/ingest.py

bench-summaries: $(VENV)/.installed
	$(PY) bench/summaries.py

bench-synthesis: $(VENV)/.installed
	$(PY) bench/synthesis.py

bench-serve: $(VENV)/.installed
	@bash scripts/system-deps.sh wrk nginx-light
	$(PY) bench/serve.py

# Exports whatever the database holds (run `make run` once for the demo); migrate first, so that
# a fresh checkout gets an empty site rather than a missing-table traceback.
export-static: $(VENV)/.installed
	$(MANAGE) migrate --noinput
	$(MANAGE) export_static

security-full: $(VENV)/.installed
	bash scripts/security-full.sh

audit: $(VENV)/.installed
	$(VENV)/bin/pip-audit --strict --progress-spinner off  # audits .venv, installed from the pinned requirements

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
