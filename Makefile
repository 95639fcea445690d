# Two entry points for a fresh Debian/Ubuntu machine with Python 3.11+:
#   make demo  -> venv, install, SQLite database under var/, migrations, seeded history, API up
#   make test  -> venv, dev extras, the services the tests need, the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DB ?= sqlite:///$(CURDIR)/var/demo.sqlite
PYTEST_ARGS ?=

.PHONY: demo test venv services bench lint typecheck clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Each tool adds its own scripts/ensure-<tool>.sh for the Debian packages and services its tests need.
services:
	@for f in scripts/ensure-*.sh; do bash $$f || exit 1; done

demo: $(STAMP)
	@mkdir -p var
	ERPOPS_DATABASE_URL=$(DEMO_DB) $(BIN)/erpops demo

test: $(STAMP) services
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: $(STAMP) services
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check erpcore erpops monitor loadtest archive advisor backup failover tests

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
