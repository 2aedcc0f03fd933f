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

## make demo: generate demo clips, run per-frame / fixed / adaptive with the shipped checkpoints, write the runs
demo: $(STAMP)
	$(BIN)/workbench data synth --out $(DEMO)/clips --clips 3 --frames 60 --size 320x192 --seed 10000 --overwrite
	rm -rf $(DEMO)/runs
	$(BIN)/workbench dvs run --data $(DEMO)/clips --policy per-frame --out $(DEMO)/runs
	$(BIN)/workbench dvs run --data $(DEMO)/clips --policy fixed --interval 5 --out $(DEMO)/runs
	$(BIN)/workbench dvs run --data $(DEMO)/clips --policy adaptive --target 90 --out $(DEMO)/runs
	@echo "Run records are in $(DEMO)/runs (run.json + frames.parquet + frames/); load one with"
	@echo "  .venv/bin/python -c \"from workbench.runs import list_runs, load_run; print(load_run(list_runs('$(DEMO)/runs')[0]).summary)\""

## make figures: redraw the README's pictures of a synthetic clip (docs/*.png)
figures: $(STAMP)
	$(BIN)/python docs/make_readme_figures.py

clean:
	rm -rf $(DEMO) .pytest_cache .ruff_cache
