# Labworks: `make run` starts the platform at http://127.0.0.1:8000, `make test` runs every test.
# Every target installs what it needs first; `make install` is idempotent and quick when nothing
# changed (stamps in .make/).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMPS := .make
export PATH := $(BIN):$(PATH)

# Debian's Python when there is one: workspaces run as per-user system accounts, which must be
# able to execute the environment's interpreter (a pyenv build under /root is not).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
PYTHON_BASE := $(shell $(PYTHON) -c 'import sys; print(sys.base_prefix)')
CHP_VERSION := 5.3.0
LABEXT_OUT := server_extension/labworks_server/labextension
LABEXT_SRC := $(shell find labextension/src labextension/style -type f 2>/dev/null) package.json tsconfig.json
PY_SRC := pyproject.toml

.PHONY: install install-test run test bench lint format test-python test-js system-deps clean

# What running needs (`make run`); the test tools come on top (`make test`, lint, bench).
install: $(STAMPS)/venv $(STAMPS)/labextension $(STAMPS)/proxy $(STAMPS)/serving
install-test: install $(STAMPS)/test-tools $(STAMPS)/tritonclient

$(STAMPS):
	mkdir -p $@

# Python environment: the project editable. The lab extension is built by npm below, so the
# wheel build hook is skipped here. pip speaks only of errors (-qq): a pip.conf naming a missing
# find-links folder would otherwise print a warning per package and bury the admin password.
$(STAMPS)/venv: $(PY_SRC) | $(STAMPS)
	$(BIN)/python -c 'import sys; assert sys.base_prefix == "$(PYTHON_BASE)"' 2>/dev/null \
		|| { rm -rf $(VENV) $(addprefix $(STAMPS)/,labextension proxy test-tools serving tritonclient); \
		     $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --quiet --upgrade pip
	mkdir -p $(LABEXT_OUT)
	SKIP_JUPYTER_BUILDER=1 $(BIN)/python -m pip install --quiet --quiet -e .
	touch $@

# The test extra (pytest, Playwright, ruff, mypy, helm, ...): only for the test targets.
$(STAMPS)/test-tools: $(STAMPS)/venv $(PY_SRC)
	SKIP_JUPYTER_BUILDER=1 $(BIN)/python -m pip install --quiet --quiet -e '.[test]'
	touch $@

# `npm install` honours the pinned versions of package-lock.json, which lists every platform's
# optional rspack bindings, so it leaves the lock as committed (tests/unit/test_install.py).
$(STAMPS)/npm: package.json package-lock.json | $(STAMPS)
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# Build the prebuilt extension and point the environment's labextensions dir at the build
# output, so a rebuild shows up without reinstalling.
$(STAMPS)/labextension: $(STAMPS)/venv $(STAMPS)/npm $(LABEXT_SRC)
	npm run build:prod --silent
	rm -rf $(VENV)/share/jupyter/labextensions/labworks
	mkdir -p $(VENV)/share/jupyter/labextensions
	ln -s $(CURDIR)/$(LABEXT_OUT) $(VENV)/share/jupyter/labextensions/labworks
	touch $@

# configurable-http-proxy (JupyterHub's proxy, a Node.js program) inside the environment.
$(STAMPS)/proxy: $(STAMPS)/venv | $(STAMPS)
	npm install --prefix $(VENV)/lib/chp --no-audit --no-fund --loglevel=error \
		configurable-http-proxy@$(CHP_VERSION)
	ln -sf $(CURDIR)/$(VENV)/lib/chp/node_modules/.bin/configurable-http-proxy $(BIN)/
	touch $@

# NVIDIA's tritonclient, an inference client Labworks did not write, in an environment of its own
# (its pins are not ours): the serving tests call the model servers with it.
$(STAMPS)/tritonclient: | $(STAMPS)
	rm -rf $(VENV)/lib/tritonclient
	$(PYTHON) -m venv $(VENV)/lib/tritonclient
	$(VENV)/lib/tritonclient/bin/python -m pip install --quiet --quiet 'tritonclient[http]==2.73.0'
	touch $@

# The model servers' own environment (hub/labworks_hub/service/serving/runtime/): kserve needs
# psutil<6, pandas<3 and protobuf<7, which the platform's environment excludes. Debian's Python,
# as above: model servers run as the deployer's system account. The lock is the serving image's;
# torch is its CPU build (a local wheel, or PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu).
$(STAMPS)/serving: images/serving/requirements.txt | $(STAMPS)
	rm -rf $(VENV)/lib/serving
	$(PYTHON) -m venv $(VENV)/lib/serving
	$(VENV)/lib/serving/bin/python -m pip install --quiet --quiet --no-deps \
		--requirement images/serving/requirements.txt
	$(VENV)/lib/serving/bin/python -m pip check >/dev/null
	touch $@

# Debian packages the tests use: chromium, PostgreSQL, docker-registry, skopeo, umoci.
system-deps: | $(STAMPS)
	scripts/system-deps.sh

run: install
	$(BIN)/labworks up

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy hub/labworks_hub server_extension/labworks_server kernels/labworks
	npm run lint:check --silent

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	npm run lint --silent

test-js: install
	npm test --silent

# Two pytest workers (pytest-xdist): the integration tests share one platform and stay together
# on one worker, in order; the unit tests' modules run beside them (tests/conftest.py groups them).
TEST_WORKERS ?= 2
test-python: install-test system-deps
	$(BIN)/python -m pytest -p no:cacheprovider --durations=40 -n $(TEST_WORKERS) tests

test: install system-deps lint test-js test-python

bench: install-test
	for bench in tests/benchmarks/bench_*.py; do $(BIN)/python $$bench; done

clean:
	rm -rf $(STAMPS) $(VENV) node_modules lib $(LABEXT_OUT) tsconfig.tsbuildinfo
