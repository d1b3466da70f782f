# Stronger Streets: `make run` serves the platform on the embedded default; `make test` runs the whole suite
# against real PostgreSQL and Redis. Both create the virtualenv and install the pinned dependencies first.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= auto

.PHONY: run test install lint format messages lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Links in emails and the demo logins point at where the server really listens, unless SITE_URL says otherwise.
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m tests.preflight
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install
	$(BIN)/python manage.py makemessages --locale cy --ignore ".venv/*" --ignore "staticfiles/*" --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore ".venv/*"

# Regenerate the pins from pyproject.toml's ranges in a throwaway virtualenv.
DEPS = $(PYTHON) -c "import tomllib, sys; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
	print('\n'.join(p['dependencies'] if sys.argv[1] == 'main' else p['optional-dependencies']['dev']))"
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	$(DEPS) main > .lock-main.in && $(DEPS) dev > .lock-dev.in
	.lock-venv/bin/pip install --quiet -r .lock-main.in
	.lock-venv/bin/pip freeze > requirements.txt
	.lock-venv/bin/pip install --quiet -r .lock-main.in -r .lock-dev.in
	( echo "-r requirements.txt"; .lock-venv/bin/pip freeze | grep -vxFf requirements.txt ) > requirements-dev.txt
	.lock-venv/bin/pip check
	rm -rf .lock-venv .lock-main.in .lock-dev.in

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
