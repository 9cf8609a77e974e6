PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.base
STAMP := $(VENV)/.installed

.PHONY: install test test-fast check docs attack-table demo bench clean

# The package alone: what `make demo` needs.
$(BASE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(BASE)

# Everything the tests, the checks, the API reference and the benchmarks need.
$(STAMP): $(BASE)
	$(BIN)/pip install --quiet -e '.[test,bench,postgres,dev,web,langgraph,otel]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q tests/test_architecture.py

docs: $(STAMP)
	$(BIN)/python docs/api.py build/api

# Rerun every attack of docs/reliability.md's table and write what it measured there.
attack-table: $(STAMP)
	CTXLOG_WRITE_ATTACK_TABLE=1 $(BIN)/python -m pytest -q tests/reliability/test_attack_table.py

demo: $(BASE)
	rm -rf demo.db demo.db-wal demo.db-shm demo.db.owners
	$(BIN)/ctxlog demo demo.db
	$(BIN)/ctxlog replay demo.db --until validated

bench: $(STAMP)
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) build demo.db demo.db-wal demo.db-shm demo.db.owners .pytest_cache .hypothesis
