# The two commands a new user runs (see README): `make demo` and `make test`.
# Both create ./.venv with the project and its dev extras on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck docs unit db e2e bench clean js

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "nexus-sdk needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

## demo: the main job — run examples/quickstart.py on a local embedded stack
demo: $(STAMP)
	$(BIN)/python examples/quickstart.py

## test: the whole suite — lint, types, unit, database (real PostgreSQL) and end-to-end tests
test: lint typecheck docs js
	$(BIN)/python -m pytest

JS_STAMP := tests/js/node_modules/.installed-stamp

## js: the official JavaScript clients (supabase-js) the interoperability tests run under node
js: $(JS_STAMP)

$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund
	@touch $@

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples tools
	$(BIN)/ruff format --check src tests benchmarks examples tools
	$(BIN)/python tools/async_to_sync.py --check
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

## docs: the documentation site (guides + API reference from the docstrings) in ./site; --strict, so a
## broken reference or link fails the build; offline (bundled theme, no external inventories)
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

db: $(STAMP)
	$(BIN)/python -m pytest tests/db

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build site tests/js/node_modules
