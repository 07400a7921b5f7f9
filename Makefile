# Each target installs what it needs into .venv first, so both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The port of `make demo` and `make demo-flask`: `make demo PORT=8001`.
PORT ?= 8000

.PHONY: demo demo-flask test lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: serve the Starlette example with the middleware on http://127.0.0.1:8000 (PORT=... for another port)
demo: $(STAMP)
	$(BIN)/uvicorn examples.starlette_app.app:app --host 127.0.0.1 --port $(PORT)

## demo-flask: serve the Flask example on http://127.0.0.1:8000 (PORT=... for another port)
demo-flask: $(STAMP)
	$(BIN)/flask --app examples.flask_app.app run --host 127.0.0.1 --port $(PORT)

## demo-django: serve the Django example with Django's own server on http://127.0.0.1:8000 (PORT= to move it)
.PHONY: demo-django
demo-django: $(STAMP)
	$(BIN)/python examples/django_app/manage.py migrate --noinput --verbosity 0
	$(BIN)/python examples/django_app/manage.py runserver 127.0.0.1:$(or $(PORT),8000)

## lint: ruff (lint + format) and mypy --strict on src/
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## test: lint, then the whole test suite (which also builds the docs with --strict,
## runs every code block of the docs, and installs the built wheel in a throwaway venv)
test: lint
	$(BIN)/pytest

## bench: the benchmarks, side by side with their peers
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## docs: build the documentation site into site/, strictly, as the tests do
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) build dist site .pytest_cache .mypy_cache .ruff_cache
