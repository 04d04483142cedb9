# The EDIH journey platform. `make up` runs it on embedded infrastructure; `make test` tests it.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Tests mostly wait on brokers, servers and timers: four at a time suit two cores.
TEST_WORKERS ?= 4

.PHONY: install up down status test test-unit bench lint docs migration clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e ".[test]"
	touch $@

install: $(VENV)/.installed

up: install ## run the whole platform on embedded defaults (Ctrl-C stops it)
	$(BIN)/edih up

down: install
	$(BIN)/edih down

status: install
	$(BIN)/edih status

test: install ## unit, integration and end-to-end tests (not the benchmarks)
	$(BIN)/pytest -n $(TEST_WORKERS)

test-unit: install
	$(BIN)/pytest tests/unit

bench: install ## benchmarks, as ratios against the raw infrastructure
	$(BIN)/pytest tests/bench -s

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy shared workflows

docs: install ## regenerate docs/events.md and the JSON Schemas from the contracts registry
	$(BIN)/python -m shared.contracts

# Each service writes its own revisions (`python -m services.<name> revision`, the journey's `python
# -m workflows revision`); the infrastructure tables' are shared's.
MIGRATION_COMMAND = $(if $(filter infrastructure,$(SERVICE)),shared.migrations,$(if $(filter journey,$(SERVICE)),workflows,services.$(SERVICE)))
migration: install ## a new revision from model changes: make migration SERVICE=intake MESSAGE="..."
	$(BIN)/python -m $(MIGRATION_COMMAND) revision -m "$(MESSAGE)"

clean:
	rm -rf .edih
