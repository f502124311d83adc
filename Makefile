# Two commands: `make run` (dashboard on demo data) and `make test` (the whole suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench venv

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m smarketing demo --if-empty
	$(BIN)/python -m compileall -q smarketing pages dashboard.py
	$(BIN)/python -m smarketing.ui.server

test: $(STAMP)
	bash scripts/test-deps.sh
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m smarketing bench --leads 100000
