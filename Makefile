# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEACHER := $(VENV)/.teacher
DEMO := data/demo

.PHONY: demo test lint install teacher figures docs clean lab

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,dist,onnx]"
	touch $(STAMP)

install: $(STAMP)

## make teacher: the optional MediaPipe teacher (workbench.seg.teacher). --no-deps: its metadata pins numpy<2, but
## it runs with ours; requirements-teacher.txt pins its runtime dependencies. Redone after every reinstall above.
$(TEACHER): $(STAMP) requirements-teacher.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-teacher.txt
	touch $(TEACHER)

teacher: $(TEACHER)

## make test: lint, import layers and every test (notebooks, browser and teacher tests included)
test: $(STAMP) $(TEACHER)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

## make demo: generate demo clips, run per-frame / fixed / adaptive (DVSNet's threshold rule, the cumulative rule, and
## corrected by fastseg) with the shipped checkpoints, open the dashboard
demo: $(STAMP)
	$(BIN)/workbench data synth --out $(DEMO)/clips --clips 3 --frames 60 --size 320x192 --seed 10000 --overwrite
	rm -rf $(DEMO)/runs
	$(BIN)/workbench dvs run --data $(DEMO)/clips --policy per-frame --out $(DEMO)/runs
	$(BIN)/workbench dvs run --data $(DEMO)/clips --policy fixed --interval 5 --out $(DEMO)/runs
	$(BIN)/workbench dvs run --data $(DEMO)/clips --policy adaptive --target 90 --out $(DEMO)/runs
	$(BIN)/workbench dvs run --data $(DEMO)/clips --policy adaptive --rule cumulative --target 60 --out $(DEMO)/runs
	$(BIN)/workbench dvs run --data $(DEMO)/clips --policy adaptive --target 90 --correct fastseg --out $(DEMO)/runs
	$(BIN)/workbench dvs sweep --data $(DEMO)/clips --rule cumulative --targets 10,40,70,90 --intervals 1,3,8 \
		--no-oracle --out $(DEMO)/runs/sweep --overwrite
	$(BIN)/workbench dashboard --runs $(DEMO)/runs

## make lab: JupyterLab at notebooks/ in the project's environment (installs jupyterlab on first use)
lab: $(STAMP)
	test -x $(BIN)/jupyter-lab || $(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,dist,onnx,lab]"
	cd notebooks && ../$(BIN)/jupyter lab

## make figures: redraw the README's pictures of a synthetic clip (docs/*.png)
figures: $(STAMP)
	$(BIN)/python docs/make_readme_figures.py

## make docs: regenerate the generated parts of the documentation (layout blocks, the command reference)
docs: $(STAMP)
	$(BIN)/python docs/make_docs.py

clean:
	rm -rf $(DEMO) .pytest_cache .ruff_cache
