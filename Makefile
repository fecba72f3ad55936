# Thin targets over the Python entry points and the `pact` CLI; decisions live in Python.
# Every target installs what it needs into .venv on first use: exactly what uv.lock names.
# Values (PACT_URL, JOBS, GIT_COMMIT, ...) are never written into a recipe: make exports the variables
# given on its command line, and Python reads them from the environment. The next line keeps each such
# value as written: make would otherwise expand `$` in it (`$(shell ...)` included) before exporting it.
$(foreach name,$(.VARIABLES),$(if $(filter command line,$(origin $(name))),$(eval override $(name) := $$(value $(name)))$(eval export $(name))))

PYTHON ?= python3
ROOT   := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
VENV   := $(ROOT).venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# uv, pinned, from PyPI into a folder of the project's own; nothing outside the project changes.
# The sync compiles the installed packages once: where PYTHONDONTWRITEBYTECODE is set (as in many CI
# images) every process would otherwise compile them again on import.
UV_VERSION := 0.13.9
TOOLS  := $(ROOT).tools
UV     := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.DEFAULT_GOAL := help
PIPELINE := $(BIN)/python -m pipeline

.PHONY: help install lock check test proofs verify verify_pact usage can_i_remove pacts states ci ci_webhook fake_ci can_i_deploy \
        deploy record_deployment publish_provider_contract create_or_update_travis_webhook test_travis_webhook \
        create_travis_token_secret create_or_update_github_webhook test_github_webhook create_github_token_secret \
        bench clean

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	@# With Python's own pip, straight into the folder; without it (Debian's python3 alone), from a venv's pip.
	@if $(PYTHON) -m pip --version >/dev/null 2>&1; then pip="$(PYTHON) -m pip"; \
	  else $(PYTHON) -m venv $(TOOLS)/venv && pip="$(TOOLS)/venv/bin/python -m pip"; fi; \
	  echo "$$pip install --target $(TOOLS) uv==$(UV_VERSION)"; \
	  $$pip install --quiet --disable-pip-version-check --no-deps --target $(TOOLS) uv==$(UV_VERSION)

$(STAMP): $(ROOT)pyproject.toml $(ROOT)setup.cfg $(ROOT)uv.lock | $(UV)
	@$(UV) lock --check --offline --quiet --project $(ROOT) 2>/dev/null || { echo "uv.lock is out of date with pyproject.toml: run make lock"; exit 1; }
	$(UV) sync --frozen --extra test --quiet --compile-bytecode --project $(ROOT) --python $(PYTHON)
	@touch $(STAMP)

##@ Everyday

check: $(STAMP) ## Lint, check the formatting and the types (ruff, mypy)
	cd $(ROOT) && $(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

# The test run (and the bench) keeps Python's and pytest's bytecode caches in the checkout even where
# PYTHONDONTWRITEBYTECODE is set (as in many CI images): without them each pytest worker compiles and rewrites
# every test module again, and every process the project's own modules.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n auto --dist worksteal

test: $(STAMP) ## The test suite on every core (real server, verifier, pact CLI)
	cd $(ROOT) && $(PYTEST)

ci: test ## The main build: tests, verification, can-i-deploy, deploy
	$(PIPELINE) ci

verify: $(STAMP) ## Verify the broker's pacts, or pacts/ offline; up to JOBS processes
	$(BIN)/python -m pipeline.verify

verify_pact: $(STAMP) ## Verify one pact: make verify_pact PACT_URL=<file or URL>
	$(BIN)/python -m pipeline.verify_pact

##@ Contracts and provider states

usage: $(STAMP) ## Which consumer uses each operation, field and provider state
	$(PIPELINE) usage

can_i_remove: $(STAMP) ## Is it used? FIELD=Product.type or OPERATION='GET /products/{id}'
	$(PIPELINE) can-i-remove

pacts: $(STAMP) ## Regenerate the project's own consumer pacts in pacts/
	$(BIN)/python $(ROOT)consumers/generate.py

states: $(STAMP) ## List the declared provider states (a Markdown table)
	@$(BIN)/python -m states

publish_provider_contract: $(STAMP) ## Test the app against openapi.yaml, publish both as the contract
	$(PIPELINE) publish-provider-contract

##@ CI builds and releases

ci_webhook: $(STAMP) ## The webhook build: verify only PACT_URL, publish the result
	$(PIPELINE) ci-webhook

fake_ci: ## Run make ci here as if on Travis (CI=true, a unique version)
	CI=true GIT_COMMIT=$$(git rev-parse --short HEAD)+$$(date +%s) GIT_BRANCH=$$(git rev-parse --abbrev-ref HEAD) \
	  PACT_BROKER_PUBLISH_VERIFICATION_RESULTS=true $(MAKE) -f $(ROOT)Makefile ci

can_i_deploy: $(STAMP) ## Ask the broker whether GIT_COMMIT can go to the environment
	$(PIPELINE) can-i-deploy

deploy: $(STAMP) ## From the main line, after can-i-deploy says yes: deploy, record it
	$(PIPELINE) deploy

record_deployment: $(STAMP) ## Record the deployment of GIT_COMMIT in the broker
	$(PIPELINE) record-deployment

##@ One-time broker set-up: webhooks and secrets

create_or_update_travis_webhook: $(STAMP) ## The broker webhook that starts a Travis build per changed pact
	$(PIPELINE) create-or-update-travis-webhook

test_travis_webhook: $(STAMP) ## Fire the Travis webhook once
	$(PIPELINE) test-travis-webhook

create_travis_token_secret: $(STAMP) ## Store TRAVIS_TOKEN as the broker secret travisToken
	$(PIPELINE) create-travis-token-secret

create_or_update_github_webhook: $(STAMP) ## The broker webhook that starts a GitHub build per changed pact
	$(PIPELINE) create-or-update-github-webhook

test_github_webhook: $(STAMP) ## Fire the GitHub webhook once
	$(PIPELINE) test-github-webhook

create_github_token_secret: $(STAMP) ## Store GITHUB_TOKEN as the broker secret githubToken
	$(PIPELINE) create-github-token-secret

##@ The project itself

install: $(STAMP) ## Create .venv with exactly what uv.lock names

lock: $(UV) ## Update uv.lock to pyproject.toml (UPGRADE=1: the newest allowed)
	$(UV) lock --project $(ROOT) $(if $(UPGRADE),--upgrade)

PROOFS_REPORT := $(ROOT).proofs/report.jsonl

proofs: $(STAMP) ## The proofs at their full budget, then their table
	@rm -f $(PROOFS_REPORT)
	cd $(ROOT) && PROOFS_BUDGET=full PROOFS_REPORT=$(PROOFS_REPORT) $(PYTEST) -q tests/proofs; status=$$?; \
	  $(BIN)/python -m tests.proofs.report $(PROOFS_REPORT) || status=1; exit $$status

bench: $(STAMP) ## Benchmarks against their baselines; writes benchmarks/RESULTS.md
	cd $(ROOT) && PYTHONDONTWRITEBYTECODE= $(BIN)/python benchmarks/run.py

clean: ## Remove .venv, the tools folder and caches
	cd $(ROOT) && rm -rf .venv .tools .pytest_cache .hypothesis *.egg-info

# `make help` lists each target that has a `## text`, under the `##@ heading` above it.
help: ## List the targets under their headings
	@echo "Usage: make <target> [NAME=value ...]"
	@awk -F ':.*## ' '/^##@ / {printf "\n%s\n", substr($$0, 5)} /^[a-z_]+:.*## / {printf "  %-31s %s\n", $$1, $$2}' \
	  $(MAKEFILE_LIST)
