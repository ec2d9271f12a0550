# Two commands set up a fresh machine: `make run` and `make test` (see README). `make run`
# serves the app and runs the import worker beside it (scripts/run-dev.sh).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEV_ENV := DJANGO_DEBUG=1
# Some machines set PYTHONDONTWRITEBYTECODE: then every test worker and every manage.py the
# suite starts compiles the project's modules and rewrites the tests' asserts again (2-3 s
# each). The caches go to the git-ignored __pycache__ folders.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install run test test-postgres lint format

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	bash scripts/ensure-weasyprint.sh
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py load_demo
	$(DEV_ENV) $(PY) manage.py create_demo_users
	$(DEV_ENV) bash scripts/run-dev.sh $(PY) 127.0.0.1:8000

# The suite includes a browser test: Debian's Chromium is installed first when missing.
# pytest-xdist: one process per core (at most 4), each with its own test database; a
# worker that runs out of tests takes some from another (worksteal), as a few tests take
# half a minute each.
PYTEST_PARALLEL ?= -n auto --maxprocesses 4 --dist worksteal

test: install
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-weasyprint.sh
	$(PY) -m pytest $(PYTEST_PARALLEL)

# The same suite against a throwaway PostgreSQL cluster on loopback.
test-postgres: install
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-weasyprint.sh
	bash scripts/with-postgres.sh $(PY) -m pytest $(PYTEST_PARALLEL)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The national-scale benchmark (issue 7; a few minutes): 47 branches × 10 years on the
# bench's own SQLite file, and on PostgreSQL too when DATABASE_URL names one. Writes the
# table into docs/PERFORMANCE.md. BENCH_ARGS=--profiles adds cProfile reports.
BENCH_STAMP := $(VENV)/.bench-installed-stamp

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

.PHONY: bench
bench: $(BENCH_STAMP)
	$(PY) -m bench $(BENCH_ARGS)

# The load and concurrency test (issue 8; about two minutes): gunicorn with 4 workers on
# 127.0.0.1, 20 staff saving monthly values while 20 readers open pages, on a scratch SQLite
# file and on a throwaway PostgreSQL cluster. Checks: no 5xx, no "database is locked", no
# lost update. LOADTEST_ARGS=--duration 60 runs longer (at most 60 s per database).
.PHONY: loadtest
loadtest: install
	bash scripts/with-postgres.sh $(PY) -m loadtest $(LOADTEST_ARGS)
