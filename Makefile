# The project's commands. `make test` and `make run` work from a fresh clone: they create the
# virtual environment (.venv) and install the project into it first.

PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := credentials federation node cli
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: install test test-fast lint format bench run clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[node,dev]'
	touch $@

## The whole test suite, on SQLite and PostgreSQL, including the multi-process federation tests.
test: install
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

## The fast set while working: everything but the slow multi-process tests.
test-fast: install
	$(BIN)/pytest -n 2 -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check $(PACKAGES) tests bench
	$(BIN)/ruff format --check $(PACKAGES) tests bench
	$(BIN)/mypy -p sdgcities

format: install
	$(BIN)/ruff check --fix $(PACKAGES) tests bench
	$(BIN)/ruff format $(PACKAGES) tests bench

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## The main command: `sdgcities demo`, a local federation (a global and two national nodes on
## 127.0.0.1:8700-8702, SQLite, local files) walked through a certification cycle, until Ctrl-C.
## Options go in DEMO_ARGS, e.g. `make run DEMO_ARGS="--port-base 9000"`.
run: install
	$(BIN)/sdgcities demo $(DEMO_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
