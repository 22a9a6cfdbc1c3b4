# Two entry points: `make demo` (server + JupyterLab) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8080
LAB_PORT ?= 8888

.PHONY: setup demo serve test clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,demo]'
	touch $(STAMP)

# Embedded server with demo data on $(HOST):$(PORT) (reused if one already answers
# there) and JupyterLab on notebooks/. Ctrl-C stops both.
demo: $(STAMP)
	$(BIN)/kfp-nb demo --host $(HOST) --port $(PORT) --lab-port $(LAB_PORT)

serve: $(STAMP)
	$(BIN)/kfp-nb serve --host $(HOST) --port $(PORT) --demo

test: $(STAMP)
	$(BIN)/python -m pytest -q tests notebooks --nbval-lax --nbval-current-env

clean:
	rm -rf $(VENV) .demo build dist *.egg-info
