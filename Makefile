# Referral service: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check 'uv>=0.5,<1'

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
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

bench: install ## benchmarks on PostgreSQL; rewrites docs/BENCHMARKS.md (minutes)
	$(BIN)/python -m bench.run

.PHONY: help install lint test test-sqlite fmt migrate run bench
