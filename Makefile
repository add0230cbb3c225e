# Two commands matter: `make test` and `make demo`. Both set themselves up (venv, pip, npm).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
CDK := npx --no-install cdk
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1
# Python writes its bytecode caches (into .venv and __pycache__/, both ignored by git) even where the shell
# asks it not to: pip installs with --no-compile, so without caches every pytest worker, every synth and the
# demo compiled each module of boto3, moto and aws-cdk-lib again (about 10 s per process).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install test lint typecheck docs demo report synth deploy destroy bench reliability clean

# pip and npm at once (each recipe still touches its stamp only after it succeeded); --no-compile: Python
# compiles what is imported on first use instead of every module of every package at install time.
install:
	@$(MAKE) --no-print-directory -j2 --output-sync=target $(STAMP) $(NODE_STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --no-compile --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy lambdas infra tools offline bench

# The documentation site: docs/ (nav and checks in mkdocs.yml) with mkdocs-material into out/site/. Strict:
# a broken link, anchor or README snippet, or a page missing from the nav, is an error. No --quiet: it
# would hide the warnings strict mode counts.
MKDOCS_BUILD := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir out/site

docs: $(STAMP)
	$(MKDOCS_BUILD)

# ruff, mypy and the docs build run in the background while pytest runs on pytest-xdist workers; tests
# that share a fixture stay on one worker (tests/conftest.py). One worker more than cores: about 30% of
# the suite's serial time is spent waiting on loopback servers and timeouts. More than 8 gain nothing
# (the longest unit takes about a minute). pytest prints live; ruff's, mypy's and mkdocs' output goes to
# a log each, printed after it, so nothing interleaves. The target fails if any of the four does (pytest
# exits 5 when it collects no test: a failure too). `make test PYTEST_WORKERS=0` runs the suite serially.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

test: install
	@logs=$$(mktemp -d); trap 'rm -rf "$$logs"' EXIT; \
	$(BIN)/ruff check . >"$$logs/ruff" 2>&1 & ruff=$$!; \
	$(BIN)/mypy lambdas infra tools offline bench >"$$logs/mypy" 2>&1 & mypy=$$!; \
	$(MKDOCS_BUILD) >"$$logs/docs" 2>&1 & docs=$$!; \
	$(PY) -m pytest -n $(PYTEST_WORKERS) --maxprocesses 8; pytest_rc=$$?; \
	wait $$ruff; ruff_rc=$$?; wait $$mypy; mypy_rc=$$?; wait $$docs; docs_rc=$$?; \
	echo "--- ruff check (exit $$ruff_rc)"; cat "$$logs/ruff"; \
	echo "--- mypy (exit $$mypy_rc)"; cat "$$logs/mypy"; \
	echo "--- mkdocs build --strict (exit $$docs_rc)"; cat "$$logs/docs"; \
	echo "--- pytest exit $$pytest_rc, ruff exit $$ruff_rc, mypy exit $$mypy_rc, docs exit $$docs_rc"; \
	test $$pytest_rc -eq 0 -a $$ruff_rc -eq 0 -a $$mypy_rc -eq 0 -a $$docs_rc -eq 0

demo: install
	$(PY) -m offline.demo

report: install
	$(PY) -m tools.report $(ARGS)

synth: install
	$(CDK) synth --no-notices -q

deploy: install
	$(CDK) deploy --no-notices --require-approval broadening $(ARGS)

destroy: install
	$(CDK) destroy --no-notices $(ARGS)

bench: install
	$(PY) -m bench

reliability: install
	$(PY) -m offline.reliability

clean:
	rm -rf cdk.out out .pytest_cache .mypy_cache .ruff_cache
