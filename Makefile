# Referral service: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
# .venv belongs to the interpreter PYTHON names: the stamp records which one built it, and another
# interpreter (make test PYTHON=python3.13) rebuilds it. VENV=.venv-3.13 keeps one per version.
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# The interpreter's own path: a pyenv shim of an installed but inactive version (python3.13 under
# `pyenv global 3.11.7`) resolves through `pyenv whence`.
WHERE := import sys; print(sys.executable, sys.implementation.name + "-" + ".".join(map(str, sys.version_info[:3])))
FOUND := $(shell $(PYTHON) -c '$(WHERE)' 2>/dev/null || { v=$$(pyenv whence $(PYTHON) 2>/dev/null | tail -n 1); test -n "$$v" && PYENV_VERSION=$$v $(PYTHON) -c '$(WHERE)'; } 2>/dev/null)
PYTHON_EXE := $(word 1,$(FOUND))
STAMP := $(VENV)/.built-with-$(or $(word 2,$(FOUND)),missing-python)
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(STAMP):
	@test -n "$(PYTHON_EXE)" || { echo "$(PYTHON) is not a Python interpreter: set PYTHON" >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON_EXE) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check 'uv>=0.5,<1'
	@touch $@

$(VENV)/.synced: $(STAMP) pyproject.toml uv.lock
	$(UV) sync --locked --quiet
	@touch $@

install: $(VENV)/.synced ## install everything (runtime and dev tools) into .venv from uv.lock

lint: install ## ruff (lint and format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core db bot tests

test: lint ## lint, types, then the whole test suite on SQLite and PostgreSQL
	$(BIN)/pytest

test-sqlite: install ## the test suite without PostgreSQL (a quick local loop)
	$(BIN)/pytest -m "not postgres"

fmt: install ## format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: install ## apply migrations to the configured database
	$(BIN)/referral migrate

run: install ## migrate and serve the API (and the bot with BOT_TOKEN) on http://127.0.0.1:8000
	$(BIN)/referral dev

# The bot's gettext catalogs (docs/bot.md, "Languages"); LOCALES_DIR is for tests/bot/test_i18n.py.
LOCALES_DIR ?= bot/locales
POT := $(VENV)/messages.pot

messages: install ## extract the bot's strings and update both catalogs (then translate, compile-messages)
	$(BIN)/pybabel -q extract -F bot/babel.cfg -o $(POT) --no-location --sort-output --no-wrap \
		-k _ -k ngettext:1,2 bot
	$(BIN)/pybabel -q update -i $(POT) -d $(LOCALES_DIR) -D messages --no-fuzzy-matching --no-wrap \
		--ignore-pot-creation-date

compile-messages: install ## compile the catalogs to the .mo files the bot reads
	$(BIN)/pybabel compile -d $(LOCALES_DIR) -D messages --statistics

bench: install ## benchmarks on PostgreSQL; rewrites docs/BENCHMARKS.md (minutes)
	$(BIN)/python -m bench.run

.PHONY: help install lint test test-sqlite fmt migrate run messages compile-messages bench
