# Two commands for a newcomer: `make demo` and `make test`. Each creates .venv itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test lint docs bench deploy-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . --group $*
	touch $@

demo: $(VENV)/.installed-example
	$(BIN)/python example_project/manage.py migrate --verbosity 0
	$(BIN)/python example_project/manage.py setup_demo
	$(BIN)/python example_project/manage.py runserver 127.0.0.1:8000

# The main suite runs twice: with the test app's User (login by email) and with Django's own.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m pytest --ds=tests.settings_django_user $(PYTEST_ARGS)
	$(BIN)/python -m pytest --ds=example_project.settings example_project/tests $(PYTEST_ARGS)

lint: $(VENV)/.installed-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy django_stepup

docs: $(VENV)/.installed-docs
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/bench_auth.py $(BENCH_ARGS)

# gunicorn (4 sync workers) + PostgreSQL + Redis, started and stopped by the script itself.
deploy-check: $(VENV)/.installed-deploy
	$(BIN)/python deploy_check/run.py

clean:
	rm -rf $(VENV) docs/_build example_project/db.sqlite3
