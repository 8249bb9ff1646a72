# Kiban: two commands.
#   make demo   set everything up and serve the app on http://127.0.0.1:8000 (SQLite)
#   make test   install what the tests need and run them all, on SQLite and on PostgreSQL
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test install install-test serve worker bench lint messages clean

# Debian's python3 needs python3-venv for `-m venv`; install it when it is missing (as root or with sudo).
$(BIN)/python:
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  echo "make: installing python3-venv"; S=; [ "$$(id -u)" = 0 ] || S=sudo; \
	  $$S apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$S apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Every step is idempotent: `make demo` again just serves the same data.
demo: install
	$(BIN)/kiban migrate --noinput
	$(BIN)/kiban orgs load
	HOST=$(HOST) PORT=$(PORT) $(BIN)/kiban demo
	$(BIN)/kiban collectstatic --noinput -v 0
	@scripts/serve-demo $(HOST) $(PORT)

serve: install
	@scripts/serve-demo $(HOST) $(PORT)

worker: install
	$(BIN)/kiban worker

test: install-test
	scripts/run-tests

bench: install-test
	$(BIN)/python bench/run_all.py

lint:
	$(BIN)/ruff check kiban bench tests

# Developers only (needs gettext): refresh the English catalogue from every Japanese msgid, then compile.
# The compiled .mo is committed, so running the app and the tests needs no gettext.
messages:
	cd kiban && ../$(BIN)/kiban makemessages -l en --no-obsolete
	cd kiban && ../$(BIN)/kiban compilemessages -l en

clean:
	rm -rf $(VENV) var staticfiles
