# The two commands: `make run` serves the demo, `make test` lints the code then runs the suite.
# Dependencies: direct pins in pyproject.toml, every indirect one in constraints.txt (`make constraints`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app.py

.PHONY: run test lint install install-dev constraints migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==26.3

# What the application needs to run, as in production: no test tools.
$(RUN_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

# The same plus pytest, Hypothesis, Playwright and ruff.
$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

# Re-pins every dependency from a clean virtual environment, after a pin changed in pyproject.toml.
constraints:
	set -e; tmp=$$(mktemp -d); \
	$(PYTHON) -m venv $$tmp/venv; \
	$$tmp/venv/bin/python -m pip install --quiet "$$PWD[dev]"; \
	{ sed -n '/^#/p' constraints.txt; $$tmp/venv/bin/python -m pip freeze --exclude tutoradmin; } > $$tmp/constraints.txt; \
	mv $$tmp/constraints.txt constraints.txt; rm -rf $$tmp

migrate: $(RUN_STAMP)
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

run: seed
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Lint and formatting first: they fail in seconds, the suite takes minutes.
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
