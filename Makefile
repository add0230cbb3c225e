# Two commands matter: `make test` and `make demo`. Both set themselves up (venv, pip, npm).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
# checkov needs an older boto3 than the product pins: it gets a venv of its own (requirements-scan.txt).
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed-stamp
CDK := npx --no-install cdk
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1
# Python writes its bytecode caches (into .venv and __pycache__/, both ignored by git) even where the shell
# asks it not to: pip installs with --no-compile, so without caches every pytest worker, every synth and the
# demo compiled each module of boto3, moto and aws-cdk-lib again (about 10 s per process).
unexport PYTHONDONTWRITEBYTECODE
# The CLI (2.1148) otherwise sends telemetry to cdk-cli-telemetry.us-east-1.api.aws on every command, synth
# included: `make test` (its CLI synth test) and `make scan` must not reach beyond loopback.
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: install test lint typecheck docs scan demo report synth deploy destroy bench reliability clean

# pip (twice) and npm at once (each recipe still touches its stamp only after it succeeded); --no-compile:
# Python compiles what is imported on first use instead of every module of every package at install time.
install:
	@$(MAKE) --no-print-directory -j3 --output-sync=target $(STAMP) $(NODE_STAMP) $(SCAN_STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --no-compile --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Compiled at install, unlike the others: checkov loads its ~1,800 check modules with bytecode writing off
# (and so does PYTHONDONTWRITEBYTECODE), so they would be compiled again on every scan: about 9 s of CPU
# once here saves about 3 s of every `make scan`.
$(SCAN_STAMP): requirements-scan.txt
	test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-scan.txt
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

# The independent scanners (docs/security.md), both offline: checkov's CloudFormation checks on the template
# `cdk synth` writes (--skip-download: no look-up on the vendor's platform; a skip lives in the resource's
# own metadata) and bandit on the Lambdas and the CDK app (config in pyproject.toml). bandit runs while the
# synth does; the target fails if either finds anything.
SCAN_OUT := out/scan
CHECKOV := $(SCAN_VENV)/bin/checkov --framework cloudformation --skip-download --compact --quiet

scan: install
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; start=$$SECONDS; synthesized=$$SECONDS; \
	$(BIN)/bandit -c pyproject.toml -q -r lambdas infra >"$$log" 2>&1 & bandit=$$!; \
	rm -rf $(SCAN_OUT); $(CDK) synth --no-notices -q -o $(SCAN_OUT) && synthesized=$$SECONDS && \
	$(CHECKOV) -f $(SCAN_OUT)/AIGatewayTokenMetrics.template.json; checkov_rc=$$?; checked=$$SECONDS; \
	wait $$bandit; bandit_rc=$$?; \
	echo "--- bandit -r lambdas infra (exit $$bandit_rc)"; cat "$$log"; \
	echo "--- checkov exit $$checkov_rc, bandit exit $$bandit_rc" \
		"(synth $$((synthesized - start)) s, then checkov $$((checked - synthesized)) s)"; \
	test $$checkov_rc -eq 0 -a $$bandit_rc -eq 0

# ruff, mypy and the docs build run in the background while pytest runs on
# pytest-xdist workers; tests that share a fixture stay on one worker (tests/conftest.py). Two workers more
# than cores: much of the suite's serial time is spent waiting on loopback servers, timeouts and deadlines
# (measured on 2 cores: 266 s with 3 workers, 199 s with 4). More
# than 8 gain nothing (the longest unit takes about a minute). pytest prints live; the others' output goes
# to a log each, printed after it, so nothing interleaves. The scanners run inside pytest, on the templates tests/infra synthesizes anyway
# (tests/infra/test_scanners.py): one synth less than `make scan`. The target fails if any of the four does (pytest
# exits 5 when it collects no test: a failure too). `make test PYTEST_WORKERS=0` runs the suite serially.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 2 )))

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
