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
	$(MAKE) test-django-matrix

## test-django-matrix: tests/test_django under the oldest and the newest supported Django
## (4.2 LTS with $(PYTHON), 6.x with Python 3.12), each in a venv of its own
DJANGO_VENVS := .venv-django42 .venv-django6
# Django 6 needs Python >= 3.12: python3.12 on PATH, else pyenv's.
PYTHON312 ?= $(shell for p in python3.12 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$$p"; break; }; done)
.PHONY: test-django-matrix
test-django-matrix: .venv-django42/.installed-stamp
	.venv-django42/bin/pytest tests/test_django -q -p no:cacheprovider
	@if [ -n "$(PYTHON312)" ]; then \
		$(MAKE) --no-print-directory .venv-django6/.installed-stamp && \
		.venv-django6/bin/pytest tests/test_django -q -p no:cacheprovider; \
	elif [ "$$CI" = true ]; then \
		echo "test-django-matrix: Django 6 needs Python 3.12, and no python3.12 was found (PYTHON312=...)" >&2; exit 1; \
	else \
		echo "test-django-matrix: SKIPPED Django 6: no python3.12 found (set PYTHON312=/path/to/python3.12)" >&2; \
	fi

.venv-django42/.installed-stamp: pyproject.toml
	$(PYTHON) -m venv .venv-django42
	.venv-django42/bin/python -m pip install --quiet --upgrade pip
	.venv-django42/bin/python -m pip install --quiet -e '.[dev,django]' 'django==4.2.*'
	touch $@

.venv-django6/.installed-stamp: pyproject.toml
	$(PYTHON312) -m venv .venv-django6
	.venv-django6/bin/python -m pip install --quiet --upgrade pip
	.venv-django6/bin/python -m pip install --quiet -e '.[dev,django]' 'django==6.*'
	touch $@

## bench: the benchmarks, side by side with their peers
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## docs: build the documentation site into site/, strictly, as the tests do
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) $(DJANGO_VENVS) build dist site .pytest_cache .mypy_cache .ruff_cache
