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

.PHONY: install test lint typecheck demo report synth deploy destroy bench reliability clean

install: $(STAMP) $(NODE_STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy lambdas infra tools bench

# pytest exits 5 when it collects no test: make treats any non-zero exit as a failure.
test: install lint typecheck
	$(PY) -m pytest

demo: install
	$(PY) -m tools.demo

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
	$(PY) -m tools.reliability

clean:
	rm -rf cdk.out out .pytest_cache .mypy_cache .ruff_cache
