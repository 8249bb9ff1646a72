# Kiban: two commands.
#   make demo   set everything up and serve the app on http://127.0.0.1:8000 (SQLite)
#   make test   install what the tests need and run them all, on SQLite and on PostgreSQL
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test install install-test serve worker bench lint messages clean

$(BIN)/python:
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

demo: install
	$(BIN)/kiban migrate --noinput
	$(BIN)/kiban orgs load
	$(BIN)/kiban demo
	$(BIN)/kiban collectstatic --noinput -v 0
	@scripts/serve-demo $(HOST) $(PORT)

test: install-test
	scripts/run-tests

bench: install-test
	$(BIN)/python bench/run_all.py

lint:
	$(BIN)/ruff check kiban bench tests

clean:
	rm -rf $(VENV) var staticfiles
