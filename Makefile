# Attend: `make demo` and `make test` are all a new user needs (see README.md).
SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.installed-$(shell cat requirements/base.txt requirements/dev.txt pyproject.toml | sha256sum | cut -c1-12)
ASSETS_STAMP := static/vendor/.installed-$(shell sha256sum package-lock.json | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck checks pytest pytest-postgres assets venv browser fonts clean

demo: venv assets fonts
	.venv/bin/attend demo

test: venv assets fonts browser lint typecheck checks pytest pytest-postgres

venv: $(VENV_STAMP)
$(VENV_STAMP):
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet --require-hashes -r requirements/base.txt -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	rm -f .venv/.installed-* && touch $@

assets: $(ASSETS_STAMP)
$(ASSETS_STAMP): package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/chart.js/dist/chart.umd.js static/vendor/chart.umd.js
	rm -f static/vendor/.installed-* && touch $@

# Debian's Chromium for the browser tests; they skip with a reason where it cannot be installed.
browser:
	@command -v chromium >/dev/null || bash scripts/install-system-packages chromium || echo "chromium unavailable: browser tests will be skipped"

# HarfBuzz's subsetter makes letter PDFs ~20x faster; letters still work without it (slowly).
fonts:
	@bash scripts/install-system-packages libharfbuzz-subset0 || echo "libharfbuzz-subset0 unavailable: letter PDFs will be slow"

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck:
	.venv/bin/mypy attend

checks:
	DATABASE_URL=sqlite:///:memory: $(PY) manage.py check --fail-level WARNING
	DATABASE_URL=sqlite:///:memory: $(PY) manage.py makemigrations --check --dry-run

pytest:
	DATABASE_URL=sqlite:///:memory: REDIS_URL= $(PY) -m pytest -q -n 2 $(PYTEST_ARGS)

# The same suite on PostgreSQL and Redis, when the CI (or you) points at them.
pytest-postgres:
	@if [ -n "$$ATTEND_TEST_DATABASE_URL" ]; then \
	  echo "== test suite on PostgreSQL ($$ATTEND_TEST_DATABASE_URL) and Redis ($${ATTEND_TEST_REDIS_URL:-none}) =="; \
	  DATABASE_URL="$$ATTEND_TEST_DATABASE_URL" REDIS_URL="$$ATTEND_TEST_REDIS_URL" $(PY) -m pytest -q -n 2 $(PYTEST_ARGS) && \
	  echo "== PostgreSQL restart under safetyd (alone: it cuts every connection) ==" && \
	  ATTEND_TEST_PG_RESTART=1 DATABASE_URL="$$ATTEND_TEST_DATABASE_URL" $(PY) -m pytest -q attend/safety/tests/test_pg_restart.py; \
	else echo "ATTEND_TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

clean:
	rm -rf .venv node_modules static/vendor var/staticfiles
