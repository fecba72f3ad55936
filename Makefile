# Thin targets over the Python entry points and the `pact` CLI; decisions live in Python.
# Every target installs what it needs into .venv on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install test verify verify_pact ci clean

help: ## List the targets
	@grep -E '^[a-z_]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-30s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml setup.cfg
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its test tools

test: $(STAMP) ## Run the test suite (real server, real verifier, real pact CLI)
	$(BIN)/python -m pytest

verify: $(STAMP) ## Verify every pact in pacts/ (or PACT_DIR)
	$(BIN)/python -m example_provider.verify

verify_pact: $(STAMP) ## Verify one pact: make verify_pact PACT_URL=<file or URL>
	@test -n "$(PACT_URL)" || { echo "verify_pact needs PACT_URL=<pact file or URL>"; exit 2; }
	PACT_URL='$(PACT_URL)' $(BIN)/python -m example_provider.verify

ci: test verify ## The main job: tests, then verification

clean: ## Remove .venv and caches
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
