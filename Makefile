# Partnerdesk. The two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
WEB_WORKERS ?= 2

.PHONY: run test lint typecheck pytest pytest-postgres e2e bench install clean

$(BIN)/activate: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(BIN)/activate

install: $(BIN)/activate

## make run: the app on the embedded SQLite default, demo data loaded, web + worker (Ctrl-C stops both).
run: install
	@DEBUG=$${DEBUG:-1} PORT=$(PORT) ./scripts/run.sh

## make test: lint, type check, the suite on SQLite, then on PostgreSQL when reachable.
test: install
	@./scripts/test.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	DEBUG=1 $(BIN)/mypy partnerdesk

e2e: install
	@./scripts/test.sh --e2e-only

bench: install
	@for b in bench/bench_*.py bench/invoice_run.py; do [ -e "$$b" ] || continue; DEBUG=1 $(BIN)/python "$$b"; done

clean:
	rm -rf $(VENV) var staticfiles
