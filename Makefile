# Everything a fresh machine needs: `make run` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# The server's own files (the SQLite database, the secret key) live here.
export STAGEFLOW_INSTANCE_DIR ?= $(CURDIR)/instance

.PHONY: run test lint docs bench clean

$(BIN)/.installed: setup.cfg pyproject.toml plugins/stageflow-sqltable/setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet -e plugins/stageflow-sqltable
	touch $@

run: $(BIN)/.installed
	$(BIN)/stageflow demo
	$(BIN)/stageflow serve --host $(HOST) --port $(PORT)

# With STAGEFLOW_TEST_POSTGRES_URL set (a database the tests may empty), the suite runs a
# second time on PostgreSQL (the formula corpus, which touches no database, only once).
# The plugins' tests run in sessions of their own (each has its own conftest.py), on
# PostgreSQL too when STAGEFLOW_TEST_POSTGRES_URL is set.
test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest plugins/stageflow-sqltable/tests
ifneq ($(STAGEFLOW_TEST_POSTGRES_URL),)
	STAGEFLOW_TEST_DATABASE_URL=$(STAGEFLOW_TEST_POSTGRES_URL) $(BIN)/python -m pytest \
		--ignore=tests/test_formula_cases.py --ignore=tests/test_formula_properties.py
endif

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: $(BIN)/.installed
	$(BIN)/python -m stageflow.grammar.docs > docs/formulas.md

bench: $(BIN)/.installed
	$(BIN)/python bench/formula.py
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis instance
