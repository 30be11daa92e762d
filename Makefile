# Skillmap — `make run` serves the site with a worker and beat; `make test` runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-m 'not browser'"`.
PYTEST_ARGS ?=

.PHONY: toolchains chaos-embedded help run test setup-run setup-test lint typecheck pytest bank frontend clean system-deps-run system-deps-test

help:
	@echo "make run    set everything up and serve Skillmap at http://$(HOST):$(PORT)/ (Ctrl-C stops)"
	@echo "make test   set up what the suite needs and run lint, types and tests (bank check included)"
	@echo "make bank   check the question bank on its own"
	@echo "make run PORT=8001 HOST=0.0.0.0   serve on another port, on every interface"

$(VENV)/.run-installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# The pinned TypeScript compiler (toolchains/typescript, lockfile committed); the worker
# builds its startup snapshot on first use, or here (var/toolchains/).
TS_TOOLCHAIN := toolchains/typescript
$(TS_TOOLCHAIN)/node_modules/.installed: $(TS_TOOLCHAIN)/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd $(TS_TOOLCHAIN) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "!! npm is missing: TypeScript challenges cannot be graded on this host."; fi

toolchains: $(TS_TOOLCHAIN)/node_modules/.installed
	@test ! -d $(TS_TOOLCHAIN)/node_modules/typescript || $(PY) -c "from quizzes.grading.languages.javascript import typescript_snapshot; typescript_snapshot()"

$(VENV)/.test-installed: $(VENV)/.run-installed tests/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	@touch $@

# bubblewrap grades code, golang-go grades Go; install them when we can (root on Debian),
# else say why not.
system-deps-run:
	@./deploy/system-deps.sh bubblewrap nodejs golang-go openjdk-17-jdk-headless

system-deps-test:
	@./deploy/system-deps.sh bubblewrap nodejs golang-go openjdk-17-jdk-headless chromium prometheus \
	  iproute2 socat

# A local, git-ignored .env so that every command in the README works in this checkout
# (config/env.py reads it; variables set in the environment still win). Never overwritten.
.env:
	@umask 077 && printf 'DEBUG=true\nSECRET_KEY=%s\n' \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@.tmp && mv $@.tmp $@
	@echo "Created .env (DEBUG=true and a generated SECRET_KEY) for local development."

setup-run: $(VENV)/.run-installed system-deps-run toolchains .env
	@DEBUG=true $(PY) manage.py migrate --no-input -v 0
	@DEBUG=true $(PY) manage.py load_roadmap
	@DEBUG=true $(PY) manage.py load_bank
	@echo "Demo accounts (email / password):"
	@DEBUG=true $(PY) manage.py create_demo_users

run: setup-run
	@echo
	@echo "  Skillmap is starting at  http://$(HOST):$(PORT)/"
	@echo "  Worker status:           http://$(HOST):$(PORT)/status/workers"
	@command -v bwrap >/dev/null || echo "  !! bubblewrap is missing: code grading is unavailable (submissions wait in the queue)."
	@echo "  A worker or beat that dies is restarted; status: $(PY) deploy/supervise.py ctl status"
	@echo "  Ctrl-C stops the web server, the Celery worker and beat."
	@echo
	@DEBUG=true HOST=$(HOST) PORT=$(PORT) $(PY) deploy/supervise.py

setup-test: $(VENV)/.test-installed system-deps-test toolchains

lint: setup-test
	$(VENV)/bin/ruff check --config tests/ruff.toml .
	$(VENV)/bin/ruff format --config tests/ruff.toml --check .
	$(VENV)/bin/hadolint --ignore DL3008 Dockerfile
	DEBUG=true $(VENV)/bin/lint-imports tests/importlinter.ini

typecheck: setup-test
	DEBUG=true $(VENV)/bin/mypy --config-file tests/mypy.ini config accounts quizzes

bank: setup-test
	DEBUG=true $(PY) manage.py check_bank --require-languages all

pytest: setup-test
	DEBUG=true $(VENV)/bin/pytest -c tests/pytest.ini --rootdir . $(PYTEST_ARGS)

# The bank check runs once, inside pytest (test_check_bank_passes_on_the_whole_bank);
# `make bank` runs it on its own.
# When the suite runs on PostgreSQL and Redis (CI), the chaos test also runs on the embedded
# default (SQLite and the serviceless broker), so both are proven in one `make test`.
chaos-embedded: setup-test
	@if [ -n "$$DATABASE_URL$$REDIS_URL" ]; then \
	  echo "chaos test on the embedded default:"; \
	  env -u DATABASE_URL -u REDIS_URL DEBUG=true $(VENV)/bin/pytest -c tests/pytest.ini \
	    --rootdir . -q tests/quizzes/pipeline/test_chaos.py; \
	fi

test: lint typecheck chaos-embedded pytest

# Rebuild the committed editor bundle (needs Node; running Skillmap does not).
frontend:
	cd frontend && npm ci && npm run build

clean:
	rm -rf var $(VENV)
