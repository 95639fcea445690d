# Two entry points for a fresh Debian/Ubuntu machine with Python 3.11+:
#   make demo  -> venv, runtime dependencies only, SQLite database var/erpops.sqlite (the default one, so every
#                 command works on it afterwards), migrations, seeded history, API up
#   make test  -> the same venv plus the dev extras, the services the tests need, the whole suite
# Two stamps: the demo installs only what it runs; the dev extras (mypy, moto, hypothesis, py-spy...) took
# about 100 s of a first `make demo` when it installed them too.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev
PYTEST_ARGS ?=
# The coverage gate: 91% was reached when it was set (2026-12-03); raise it as coverage grows.
COVERAGE ?= --cov=erpcore --cov=erpops --cov=opskit --cov=monitor --cov=runbooks --cov=loadtest --cov=archive \
	--cov=advisor --cov=backup --cov=failover --cov-report= --cov-fail-under=89

.PHONY: demo test venv services bench lint typecheck clean

# uv (from PyPI) downloads in parallel: the runtime set took 13.5 s with uv against 90 s with pip on this machine.
# The venv is made without pip (ensurepip took 16-29 s of a busy machine's time) and the system's pip puts uv
# in it; uv then installs pip too, for whoever wants it. Where the system python has no pip or uv cannot be
# had, the venv gets pip from ensurepip and pip installs (slower, same result).
INSTALL = $(BIN)/uv pip install -q --python $(BIN)/python
PIP     = $(BIN)/python -m pip install -q --disable-pip-version-check

$(RUNTIME_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	@test -x $(BIN)/uv || $(PYTHON) -m pip --python $(BIN)/python install -q --disable-pip-version-check 'uv>=0.4' \
		|| echo "uv unavailable: installing with pip (slower)"
	@if test -x $(BIN)/uv && $(INSTALL) -e . pip; then :; else \
		$(BIN)/python -m ensurepip --upgrade >/dev/null && $(PIP) -e .; fi
	@touch $@

$(DEV_STAMP): $(RUNTIME_STAMP)
	@if test -x $(BIN)/uv && $(INSTALL) -e '.[dev]'; then :; else echo "installing with pip"; $(PIP) -e '.[dev]'; fi
	@touch $@

venv: $(DEV_STAMP)

# Each tool adds its own scripts/ensure-<tool>.sh for the Debian packages and services its tests need.
services:
	@for f in scripts/ensure-*.sh; do bash $$f || exit 1; done

# The configured database: ERPOPS_DATABASE_URL or erpops.toml when set, else var/erpops.sqlite.
demo: $(RUNTIME_STAMP)
	$(BIN)/erpops demo

test: $(DEV_STAMP) services
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist worksteal $(COVERAGE) $(PYTEST_ARGS)

bench: $(DEV_STAMP) services
	$(BIN)/python -m bench

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
