# Two commands set everything up on a fresh machine:
#   make demo   create .venv, install rail, render and lint the shipped railiance stack
#   make test   install rail with its test tools, run the checks and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint schemas clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rail render
	$(BIN)/rail lint

lint: $(STAMP)
	$(BIN)/ruff check renderer tests scripts
	$(BIN)/ruff format --check renderer tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) lint
	$(BIN)/python -m pytest

schemas: $(BIN)/python
	$(BIN)/python scripts/gen_crd_schemas.py
	$(BIN)/python scripts/gen_core_schemas.py
	$(BIN)/python scripts/gen_chart_catalog.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
