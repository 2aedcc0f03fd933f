# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := data/demo

.PHONY: demo test lint install figures clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## make test: lint, import layers and every test (notebooks and browser tests included as they arrive)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

## make demo: generate the demo clips and summarise them
demo: $(STAMP)
	$(BIN)/workbench data synth --out $(DEMO)/clips --clips 3 --frames 60 --size 320x192 --seed 0 --overwrite
	$(BIN)/workbench data info $(DEMO)/clips

## make figures: redraw the README's pictures of a synthetic clip (docs/*.png)
figures: $(STAMP)
	$(BIN)/python docs/make_readme_figures.py

clean:
	rm -rf $(DEMO) .pytest_cache .ruff_cache
