# The two commands a newcomer needs: `make run` and `make test`. Python 3.11+ is all they ask for.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
SIM_PORT ?= 9100
PY := $(VENV)/bin/python
SMM := $(VENV)/bin/smmpanel
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
# pytest-xdist processes: one per CPU by default; PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
PYTEST = $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

.PHONY: run test test-sqlite test-postgres chromium screenshots lint format bench install dev clean messages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("smmpanel needs Python 3.11+") if sys.version_info < (3, 11) else None'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

## make run: migrate an SQLite database under var/, seed the demo, and run the web server
## on 127.0.0.1:$(PORT), the worker and the demo provider (simulator on $(SIM_PORT)).
run: install
	$(SMM) migrate --noinput -v0
	$(SMM) collectstatic --noinput -v0
	$(SMM) demo-seed --port $(PORT) --simulator-port $(SIM_PORT)
	$(SMM) up --port $(PORT) --simulator --simulator-port $(SIM_PORT)

## make test: the whole suite on SQLite, then again on PostgreSQL when it is reachable,
## each spread over $(PYTEST_WORKERS) processes (every process makes its own test database).
## The browser tests (tests/web) need Debian's chromium: see `chromium` below.
test: dev chromium
	$(PYTEST)
	@if $(PY) -c "import psycopg; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== PostgreSQL is reachable: the suite again on PostgreSQL =="; \
		DATABASE_URL='$(PG_URL)' $(PYTEST); \
	else \
		echo "== PostgreSQL not reachable at $(PG_URL): ran on SQLite only =="; \
	fi

test-sqlite: dev chromium
	$(PYTEST)

test-postgres: dev chromium
	DATABASE_URL='$(PG_URL)' $(PYTEST)

## Debian's chromium for the browser tests: installed where we are root with apt-get, else
## one line says the browser tests are skipped (under CI=true it is an error instead).
chromium:
	@sh scripts/ensure-chromium

## make screenshots: a demo panel with some orders, each page of scripts/screenshots.py's
## PAGES table photographed into docs/screenshots/ (`PAGES="home admin-orders"` for some).
screenshots: dev
	@sh scripts/ensure-chromium --required
	$(PY) scripts/screenshots.py $(PAGES)

lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy smmpanel
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(SMM) makemigrations --check --dry-run

format: dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make messages: refresh the translation catalogs (smmpanel/locale) from the code and compile
## them; needs GNU gettext. The compiled catalogs are committed, so running needs only Python.
MESSAGE_IGNORES = --ignore 'tests/*' --ignore 'bench/*' --ignore 'var/*' --ignore 'scripts/*' \
	--ignore 'docs/*' --ignore 'smmpanel/simulator/*'
messages: dev
	$(SMM) makemessages --locale tr --add-location file --no-obsolete $(MESSAGE_IGNORES)
	$(SMM) compilemessages --locale tr --ignore '.venv' --ignore 'var'

bench: dev
	$(PY) -m bench

clean:
	rm -rf $(VENV) var/smmpanel.sqlite3* var/static
