# The two commands of README.md: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
# $(call debian_package,name,what happens without it): installed from Debian when missing.
debian_package = command -v $(1) >/dev/null || (apt-get update -qq && apt-get install -y -qq $(1) >/dev/null) \
	|| echo "!! $(1) could not be installed: $(2)"
PG_REACHABLE = $(PY) -c "import psycopg; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null

RESULTS := artifacts/matrix
NOX := $(VENV)/bin/nox

.PHONY: demo test test-sqlite test-postgres lint matrix bench soak

$(VENV)/.base: requirements/base.txt requirements/runtime.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/base.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# Browser tests drive Debian's Chromium through Playwright (never `playwright install`).
$(VENV)/.test: $(VENV)/.base requirements/test.txt requirements/testing.txt
	$(PY) -m pip install -q -r requirements/test.txt
	@$(call debian_package,chromium,browser tests will skip)
	touch $@

demo: $(VENV)/.base
	$(PY) manage.py migrate --noinput
	$(PY) manage.py oidc_demo_setup
	$(PY) manage.py runserver 127.0.0.1:8000

# nox (the Django/Python matrix), build and twine.
$(VENV)/.ci: $(VENV)/.test requirements/ci.txt
	$(PY) -m pip install -q -r requirements/ci.txt
	touch $@

# Lint, the main pair (Django 5.2 / Python 3.11, this .venv) on SQLite and PostgreSQL, the
# multi-node soak, then every other pair of noxfile.py on SQLite, the package checks, and the pass
# counts per pair.
test: $(VENV)/.ci lint test-sqlite test-postgres soak matrix

lint: $(VENV)/.test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test-sqlite: $(VENV)/.test
	rm -rf $(RESULTS)
	$(PY) -m pytest --junitxml=$(RESULTS)/django5.2-py3.11-sqlite.xml

# PostgreSQL when reachable (this machine runs one); said loudly when it is not.
test-postgres: $(VENV)/.test
	@if $(PG_REACHABLE); then \
		echo "== PostgreSQL at $(PG_URL): running the suite again (browser tests ran once: the demo uses SQLite)"; \
		DATABASE_URL=$(PG_URL) $(PY) -m pytest -m "not browser" --junitxml=$(RESULTS)/django5.2-py3.11-postgres.xml; \
	else \
		echo "!! PostgreSQL is NOT reachable at $(PG_URL): ran SQLite only !!"; \
		mkdir -p $(RESULTS); echo "PostgreSQL not reachable at $(PG_URL)" > $(RESULTS)/django5.2-py3.11-postgres.skipped; \
	fi

# The other pairs (SQLite, no browser tests), the sdist/wheel checks and the install check; the
# summary table is printed even when a step failed, and any failure makes the target fail.
matrix: $(VENV)/.ci
	@status=0; \
	$(NOX) -t matrix || status=1; \
	$(NOX) -s install || status=1; \
	$(NOX) -s summary || status=1; \
	exit $$status

$(VENV)/.bench: $(VENV)/.test requirements/bench.txt
	$(PY) -m pip install -q -r requirements/bench.txt
	@$(call debian_package,wrk,scenario 6 uses the bounded Python client)
	touch $@

# The peer of scenario 6, node-oidc-provider, from the npm registry into bench/peer (not committed).
bench/peer/node_modules/.installed: bench/peer/package.json
	@if command -v npm >/dev/null; then \
		cd bench/peer && npm install --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "!! npm not found: scenario 6 runs without the peer (node-oidc-provider) !!"; fi

# All scenarios on SQLite (a file), then again on PostgreSQL when reachable.
bench: $(VENV)/.bench bench/peer/node_modules/.installed
	$(PY) bench/run.py
	@if $(PG_REACHABLE); then \
		DATABASE_URL=$(PG_URL) $(PY) bench/run.py; \
	else \
		echo "!! PostgreSQL is NOT reachable at $(PG_URL): benchmarked SQLite only !!"; \
	fi

# Three gunicorn nodes on PostgreSQL with their own Redis, under load while keys rotate, a retired key
# is revoked and Redis restarts (bench/soak.py; < 90 s, loopback only, exit 1 on any failure).
# Part of `make test`; said loudly and skipped when PostgreSQL is not reachable.
soak: $(VENV)/.bench
	@$(call debian_package,redis-server,the soak needs redis-server)
	@if $(PG_REACHABLE); then $(PY) bench/soak.py; else 		echo "!! PostgreSQL is NOT reachable at $(PG_URL): the multi-node soak did NOT run !!"; fi
