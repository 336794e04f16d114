# Everything a fresh machine needs: `make run` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FORMULA ?= IF(ADDMONTHS(DATE(2024, 1, 31), 1) = DATE(2024, 2, 29), "end of month kept", "wrong")

.PHONY: run test lint docs bench clean

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/stageflow formula check '$(FORMULA)'
	$(BIN)/stageflow formula eval '$(FORMULA)'

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: $(BIN)/.installed
	$(BIN)/python -m stageflow.grammar.docs > docs/formulas.md

bench: $(BIN)/.installed
	$(BIN)/python bench/formula.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
