# Two commands: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORTAL := $(BIN)/portal
HOST ?= 127.0.0.1
PORT ?= 5000

# Production settings, if present (see .env.example); never committed.
-include .env
export

.PHONY: run serve-prod test setup lint format pytest browser bench translations index clean

# The outbox worker runs beside the server (e-mail lands in instance/outbox/ as .eml files).
run: setup
	$(PORTAL) demo --if-empty
	@$(PORTAL) worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PORTAL) run --host $(HOST) --port $(PORT)

# Several gunicorn workers against PostgreSQL (PORTAL_DATABASE_URL in .env or the environment).
WORKERS ?= 4
serve-prod: $(STAMP) portal/translations/ru/LC_MESSAGES/messages.mo
	@case "$$PORTAL_DATABASE_URL" in postgresql*) ;; *) \
	  echo "Set PORTAL_DATABASE_URL to a PostgreSQL URL (see .env.example)"; exit 1;; esac
	$(PORTAL) db upgrade
	$(PORTAL) index --changed
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - \
	  --forwarded-allow-ips 127.0.0.1 wsgi:app

test: setup lint browser pytest

setup: $(STAMP) portal/translations/ru/LC_MESSAGES/messages.mo
	$(PORTAL) db upgrade
	$(PORTAL) index --changed

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

portal/translations/ru/LC_MESSAGES/messages.mo: portal/translations/ru/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d portal/translations

lint: $(STAMP)
	$(BIN)/ruff check portal tests bench
	$(BIN)/ruff format --check portal tests bench

format: $(STAMP)
	$(BIN)/ruff check --fix portal tests bench
	$(BIN)/ruff format portal tests bench

pytest: $(STAMP)
	$(BIN)/pytest

# Browser tests drive Debian's Chromium (Playwright never downloads a browser here) and
# inject axe-core, the npm package pinned in package-lock.json, to audit accessibility.
AXE := node_modules/axe-core/axe.min.js
browser: $(AXE)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

$(AXE): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "Installing Debian's npm for the accessibility audit"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	npm ci --prefer-offline --no-audit --no-fund
	@touch $@

bench: setup
	$(PORTAL) bench

# Refresh the message catalogue after changing texts in code or templates.
translations: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d portal/translations --no-fuzzy-matching

index: setup
	$(PORTAL) index

clean:
	rm -rf $(VENV) node_modules index/current index/gen-* .pytest_cache .ruff_cache
