# The project's commands. `make test` and `make run` work from a fresh clone: they create the
# virtual environment (.venv) and install the project into it first.

PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := credentials federation node cli
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: install test test-fast lint format bench run screenshots clean lock

install: $(VENV)/.installed

# The pinned, hashed versions first (requirements/dev.txt), then the project itself; a dependency
# added to pyproject.toml after the last `make lock` is still installed (from its range), and
# tests/deploy/test_lock.py fails until the lock is regenerated.
$(VENV)/.installed: pyproject.toml requirements/dev.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet -e '.[node,dev]'
	touch $@

## The dependency locks, regenerated from pyproject.toml's ranges after any change to them:
## requirements/base.txt (the verifier), node.txt (the Docker image), dev.txt (make install, CI).
## Resolved for CPython 3.11 on Linux, against the package index alone (no local wheel folder).
## Pins already in a lock are kept; `make lock LOCK_ARGS=--upgrade` moves every pin to the newest.
LOCK_ARGS ?=
LOCK_COMPILE = env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links --resolver=backtracking pyproject.toml
lock: install
	$(BIN)/pip install --quiet 'pip-tools>=7.4'
	$(LOCK_COMPILE) $(LOCK_ARGS) -o requirements/base.txt
	$(LOCK_COMPILE) $(LOCK_ARGS) --extra node -o requirements/node.txt
	$(LOCK_COMPILE) $(LOCK_ARGS) --extra node --extra dev -o requirements/dev.txt

# The suite starts a few hundred Python processes (nodes, commands) and each of its workers
# rewrites every test module's asserts: where PYTHONDONTWRITEBYTECODE is set (some images set
# it), none of that is cached and each process compiles the project's modules again (collection
# alone took 13 s of CPU per worker instead of 6).
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest

## The whole test suite, on SQLite and PostgreSQL, including the multi-process federation tests.
test: install
	$(PYTEST) -n 2 --dist worksteal $(PYTEST_ARGS)

## The fast set while working: everything but the slow tests (served nodes, federations, browsers).
test-fast: install
	$(PYTEST) -n 2 --dist worksteal -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check $(PACKAGES) tests bench
	$(BIN)/ruff format --check $(PACKAGES) tests bench
	$(BIN)/mypy -p sdgcities
	$(BIN)/lint-imports --no-cache

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

## The README's pictures (docs/images/): the demo federation on ports 8760-8762, its pages in
## Debian's Chromium (tests/web/screenshot.py).
screenshots: install
	$(BIN)/python -m tests.web.screenshot --demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
