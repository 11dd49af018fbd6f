# The only entry points a newcomer needs. `make setup` is idempotent: it reinstalls only
# what changed (pyproject.toml, package-lock.json).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PYTHON := $(VENV)/bin/python
HP := $(VENV)/bin/hp

.PHONY: help setup lint test unit infra-test check synth clean bench-api

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

SYSTEM_PACKAGES := postgresql-15 redis-server

setup: $(VENV)/.installed node_modules/.installed system-packages ## venv, pinned Node 22 + CDK CLI, PostgreSQL 15, Redis 7

.PHONY: system-packages
system-packages:
	@scripts/install-system-packages $(SYSTEM_PACKAGES)

$(VENV)/.installed: pyproject.toml
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (python3 is $$(python3 --version))."; exit 1; }
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[infra,api,dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || scripts/install-system-packages npm
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: setup ## ruff check, ruff format --check, mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

unit: setup ## Fast tests: nothing but Python
	$(PYTHON) -m pytest tests/unit

infra-test: setup ## CDK tests: synthesizes every environment once
	$(PYTHON) -m pytest tests/infra

test: lint ## Everything CI runs: lint, all tests, the compliance gate
	$(PYTHON) -m pytest
	$(HP) infra check --all

check: setup ## hp infra check --all: cfn-lint + cdk-nag HIPAA, offline
	$(HP) infra check --all

synth: setup ## hp infra synth --all: CloudFormation into cdk.out/
	$(HP) infra synth --all

bench-api: setup ## API throughput/latency/memory benchmark (prints figures; not a test)
	$(PYTHON) -m benchmarks.api_bench

clean: ## Remove build output (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
