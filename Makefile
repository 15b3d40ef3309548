# Chatterbox developer commands. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := tools/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export CI ?=

.PHONY: help setup system-deps run test lint format generate check-generated check-asyncapi docs \
	test-unit test-contract test-integration test-e2e clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(PY_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): tools/package.json tools/package-lock.json
	@command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	cd tools && CI=true npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_STAMP) $(NODE_STAMP)  ## Create the virtualenv and install Python and Node dependencies

system-deps:  ## Install the Debian packages the tests use (Chromium, Redis, PostgreSQL, nginx), when missing
	tools/ensure-system-deps.sh chromium fonts-noto-color-emoji redis-server postgresql nginx

run: $(PY_STAMP)  ## Set up, migrate and serve on http://127.0.0.1:8000 (SQLite in ./data)
	$(BIN)/chatterbox migrate
	@echo "Chatterbox: http://$(HOST):$(PORT)/"
	$(BIN)/chatterbox serve --host $(HOST) --port $(PORT)

lint: $(PY_STAMP)  ## ruff (lint + format check) and mypy --strict on chatterbox/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(PY_STAMP)  ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

generate: setup  ## Regenerate models, browser validators and protocol docs from schema/ + asyncapi.yaml
	$(BIN)/datamodel-codegen
	node tools/build-validators.mjs
	node tools/build-protocol-docs.mjs

check-generated: setup  ## Fail when a committed generated file differs from a fresh generation
	$(PY) tools/check_generated.py

check-asyncapi: setup  ## asyncapi.yaml must parse with zero errors and zero warnings
	node tools/check-asyncapi.mjs asyncapi.yaml

docs: generate  ## Render the protocol docs (served at /docs/protocol/)

test: setup system-deps lint check-generated check-asyncapi  ## Everything: lint, drift check, AsyncAPI check, all tests
	node --test tools/test/
	$(PY) bench/run.py --smoke
	$(PY) -m pytest -q

test-unit: $(PY_STAMP)
	$(PY) -m pytest -q tests/unit
test-contract: setup
	$(PY) -m pytest -q tests/contract
test-integration: $(PY_STAMP)
	$(PY) -m pytest -q tests/integration
test-e2e: setup system-deps
	$(PY) -m pytest -q tests/e2e

clean:  ## Remove the virtualenv, node_modules and caches
	rm -rf $(VENV) tools/node_modules build .pytest_cache .mypy_cache .ruff_cache .hypothesis

.PHONY: bench bench-report bench-smoke
bench: setup  ## Full benchmark (~35 min; first run also seeds ~2.5 min): rewrites docs/benchmarks.md and docs/bench/*.png
	$(PY) bench/run.py --json bench/build/last-run.json
bench-report: setup  ## Rewrite docs/benchmarks.md from the last `make bench` records (after editing bench/NOTES.md)
	$(PY) bench/report.py bench/build/last-run.json
bench-smoke: setup  ## Benchmark harness check (seconds, tiny N, every server)
	$(PY) bench/run.py --smoke
