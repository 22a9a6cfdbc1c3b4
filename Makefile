# Two entry points: `make demo` (server + JupyterLab) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8080
LAB_PORT ?= 8888

BUNDLE := kfp_nb/static/widget.js
JS_SOURCES := $(shell find js/src -type f 2>/dev/null) js/package-lock.json js/build.mjs

.PHONY: setup demo serve test test-js browser load bench clean

setup: $(STAMP) $(BUNDLE)

# The front end is built here (and by the hatch hook in wheels), never committed.
NODE_STAMP := js/node_modules/.installed-stamp

$(NODE_STAMP): js/package.json js/package-lock.json
	cd js && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

$(BUNDLE): $(JS_SOURCES) $(NODE_STAMP)
	cd js && npm run build

$(STAMP): pyproject.toml $(BUNDLE)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,demo]'
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; it downloads nothing).
browser:
	@command -v chromium >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "install Debian's chromium (apt-get install chromium) for the browser tests"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Embedded server with demo data on $(HOST):$(PORT) (reused if one already answers
# there) and JupyterLab on notebooks/. Ctrl-C stops both.
demo: $(STAMP)
	$(BIN)/kfp-nb demo --host $(HOST) --port $(PORT) --lab-port $(LAB_PORT)

serve: $(STAMP)
	$(BIN)/kfp-nb serve --host $(HOST) --port $(PORT) --demo

test-js: $(BUNDLE)
	cd js && npm run typecheck && npm test

test: setup browser test-js
	$(BIN)/python -m pytest -q tests notebooks --nbval-lax --nbval-current-env

# Load (50 clients for KFP_NB_LOAD_SECONDS=60 s) and kill -9 tests of the embedded
# server, about 2 minutes; CI runs them after `make test`.
load: $(STAMP)
	$(BIN)/python -m pytest -q -m load tests/load

# Benchmarks print tables of medians and ratios; not part of `make test`.
bench: setup browser
	$(BIN)/python benchmarks/frames.py
	$(BIN)/python benchmarks/listing.py
	$(BIN)/python benchmarks/server.py
	$(BIN)/python benchmarks/table_render.py

clean:
	rm -rf $(VENV) .demo build dist *.egg-info js/node_modules kfp_nb/static tests/artifacts
