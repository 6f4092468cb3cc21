# The two commands: `make run` (embedded default) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app service_hub.wsgi
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test lint browser mail-server frontend-check test-sqlite test-postgresql bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# The browser app (frontend/): npm installs exactly the lock file; the build is redone when a source changes.
FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig.json -type f 2>/dev/null)

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && npm run build

# Type check (vue-tsc) and the unit and component tests (Vitest).
frontend-check: frontend/node_modules/.installed
	cd frontend && npm run typecheck && npm run test

run: $(VENV)/.runtime frontend/dist/index.html
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(FLASK) serve --host 127.0.0.1 --port 5000

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Debian's chromium for the browser tests; Playwright drives it, nothing is downloaded.
browser:
	sh scripts/install-browser.sh

# Debian's Dovecot for the IMAP poller tests; they start a private instance, no system service.
mail-server:
	sh scripts/install-dovecot.sh

test-sqlite: $(VENV)/.dev browser mail-server frontend/dist/index.html
	$(BIN)/python -m pytest -q --db=sqlite

test-postgresql: $(VENV)/.dev mail-server
	TEST_POSTGRES_URL=$(PG_URL) $(BIN)/python -m pytest -q --db=postgresql

test: lint frontend-check test-sqlite test-postgresql

bench: $(VENV)/.dev
	$(MAKE) -C bench all PYTHON=$(abspath $(BIN)/python)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache frontend/node_modules frontend/dist
