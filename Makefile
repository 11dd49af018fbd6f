# The only entry points a newcomer needs. `make setup` is idempotent: it reinstalls only
# what changed (pyproject.toml, package-lock.json).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PYTHON := $(VENV)/bin/python
HP := $(VENV)/bin/hp

.PHONY: help setup up down lint test unit infra-test check rehearse synth diagram clean bench-api bench-api-compare bench-dr bench-up bench-frontend frontend frontend-test e2e

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

# What the platform runs on (make up; pgBackRest archives and backs up its database); the
# browser tests add chromium and a font for its screenshots; `hp infra rehearse` runs the
# task definitions in bubblewrap's sandboxes; `hp diagram` lays its drawing out with Graphviz.
SYSTEM_PACKAGES := postgresql-15 pgbackrest redis-server nginx openssl graphviz
TEST_PACKAGES := chromium fonts-liberation bubblewrap
# `make bench-api` drives the API to saturation with wrk (C: it takes little of the CPU).
BENCH_PACKAGES := wrk
# The frontend builds with the pinned Node 22 (package.json's node@22), not the machine's.
NODE_PATH_PREFIX := PATH="$(CURDIR)/node_modules/node/bin:$$PATH"
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts frontend/tsconfig.json

setup: $(VENV)/.installed node_modules/.installed frontend/node_modules/.installed system-packages ## venv, pinned Node 22 + CDK CLI, frontend packages, PostgreSQL 15, Redis, Nginx

.PHONY: system-packages test-packages
system-packages:
	@scripts/install-system-packages $(SYSTEM_PACKAGES)

test-packages:
	@scripts/install-system-packages $(TEST_PACKAGES)

up: setup frontend ## Run the whole platform locally: https://localhost:8443 (hp up; idempotent)
	$(HP) up

down: ## Stop the local platform (data is kept)
	@test -x $(HP) && $(HP) down || echo "Nothing to stop (not set up)."

$(VENV)/.installed: pyproject.toml
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (python3 is $$(python3 --version))."; exit 1; }
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[cli,infra,api,dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || scripts/install-system-packages npm
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json node_modules/.installed
	cd frontend && $(NODE_PATH_PREFIX) npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend: frontend/dist/index.html ## Build the frontend (type check + Vite production build) if stale

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && $(NODE_PATH_PREFIX) npm run --silent build

frontend-test: frontend/node_modules/.installed ## Vitest: the frontend's unit and component tests
	cd frontend && $(NODE_PATH_PREFIX) npm test --silent

lint: setup ## ruff check, ruff format --check, mypy; the frontend's type check and Prettier
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd frontend && $(NODE_PATH_PREFIX) npm run --silent lint

unit: setup ## Fast tests: nothing but Python
	$(PYTHON) -m pytest tests/unit

infra-test: setup ## CDK tests: synthesizes every environment once
	$(PYTHON) -m pytest tests/infra

test: lint test-packages frontend-test frontend ## Everything CI runs: lint, all tests (browser ones too), the gate, the rehearsal
	$(PYTHON) -m pytest
	$(HP) infra check --all
	$(HP) infra rehearse dev

e2e: setup test-packages frontend ## Only the end-to-end tests (screenshots in test-output/screenshots/)
	$(PYTHON) -m pytest tests/e2e

check: setup ## hp infra check --all: cfn-lint + cdk-nag HIPAA + deployability, offline
	$(HP) infra check --all

rehearse: setup test-packages frontend ## hp infra rehearse dev: both services from their task definitions, sandboxed
	$(HP) infra rehearse dev

synth: setup ## hp infra synth --all: CloudFormation into cdk.out/
	$(HP) infra synth --all

diagram: setup ## Redraw docs/architecture-dev.png (and the model it is drawn from) from the templates
	$(HP) diagram dev --output docs/architecture-dev.png --model docs/architecture-dev.json

bench-api: setup ## API throughput/latency/memory benchmark, open loop and at saturation (prints figures; not a test)
	@scripts/install-system-packages $(BENCH_PACKAGES)
	$(PYTHON) -m benchmarks.api_bench

bench-api-compare: setup ## Saturation figures of BASE (default HEAD~1) and the working tree, in turns (prints figures)
	@scripts/install-system-packages $(BENCH_PACKAGES)
	$(PYTHON) -m benchmarks.compare_api --base $(or $(BASE),HEAD~1) --rounds $(or $(ROUNDS),2)

bench-dr: setup frontend ## Archive growth per 10,000 writes, and drills' RPO/RTO under writes (prints figures)
	$(PYTHON) -m benchmarks.dr_bench

bench-up: setup frontend ## Cold and warm `hp up` times to all-healthy (prints figures; not a test)
	$(PYTHON) -m benchmarks.up_bench

bench-frontend: setup frontend ## The dashboard's time to content on a throttled phone, and its bytes (prints figures)
	$(PYTHON) -m benchmarks.frontend_bench

clean: ## Remove build output (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache frontend/dist test-output
