# The two commands: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: run test lint install browser migrate demo bench soak ci clean

# The virtual environment, rebuilt when the pinned requirements change.
$(VENV)/.installed: pyproject.toml requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e . --config-settings editable_mode=compat
	touch $@

install: $(VENV)/.installed

# Browser tests drive Debian's chromium (no browser download at run time).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests"; \
		apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }

migrate: install
	$(BIN)/followthrough migrate --noinput

demo: migrate
	$(BIN)/followthrough loaddemo

# Local use: SQLite in var/, debug pages on, served by Django on http://$(HOST):$(PORT), with a job
# worker beside it (slow figures, and later reminders and imports, run there). Ctrl-C stops both:
# the terminal sends it to the worker too, which finishes its job in hand, so the trap only waits
# (a TERM on top would be a second signal: the worker's "stop now"); however else the server ends,
# the trap stops the worker.
run: demo
	@echo "followthrough on http://$(HOST):$(PORT)/ with a job worker beside it (Ctrl-C stops both)"
	@DEBUG=1 $(BIN)/followthrough worker & worker=$$!; \
	trap 'wait $$worker; worker=' INT; \
	trap '[ -z "$$worker" ] || { kill -TERM $$worker 2>/dev/null; wait $$worker; }' EXIT TERM; \
	DEBUG=1 $(BIN)/followthrough runserver $(HOST):$(PORT)

# The linter and the layering contracts: the format imports no Django, the domain no
# services, the services no web or reports, and reports only read.
lint: install
	$(BIN)/ruff check --quiet .
	$(BIN)/lint-imports --no-cache

test: install browser lint
	$(BIN)/followthrough makemigrations --check --dry-run --noinput > /dev/null || \
		(echo "Models changed without a migration: run .venv/bin/followthrough makemigrations" >&2; exit 1)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS)

bench: install
	$(BIN)/python bench/run.py --scale $(or $(SCALE),S)

# Soak: gunicorn under a mix of reads, sign-ins, exports and progress updates at concurrency 8
# for DURATION seconds (default 180), on SQLite or DB=postgres; fails on any 5xx or growing memory.
soak: install
	$(BIN)/python bench/soak.py --duration $(or $(DURATION),180) --db $(or $(DB),sqlite)

ci:
	.ci/run

clean:
	rm -rf $(VENV) var/static .pytest_cache build *.egg-info
