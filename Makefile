# The two commands: `make run` and `make test`. Everything else is set up on the way.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export PORT ?= 8000
export DATA_DIR ?= var
export FAKE_OPENROUTER_PORT ?= $(shell echo $$(( $(PORT) + 10 )))

.PHONY: run test venv migrate check clean admin

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

migrate: venv
	$(BIN)/python manage.py migrate --noinput

# Web (uvicorn, ASGI), Celery worker and beat, plus the offline OpenRouter double in demo mode
# (no OPENROUTER_API_KEY). Ctrl-C stops them all.
run: migrate
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@if [ -z "$$OPENROUTER_API_KEY" ]; then \
	  echo "Demo mode: no OPENROUTER_API_KEY, using the offline OpenRouter double on port $(FAKE_OPENROUTER_PORT)"; \
	  exec $(BIN)/honcho start -f Procfile.demo --port $(PORT) -d .; \
	else \
	  exec $(BIN)/honcho start -f Procfile --port $(PORT) -d .; \
	fi

# Make an administrator in the database `make run` uses (same DATA_DIR, DATABASE_URL and .env).
admin: migrate
	$(BIN)/python manage.py createsuperuser

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Django's checks, migrations in step with the models, lint, format and types.
check: venv
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

clean:
	rm -rf $(VENV) $(DATA_DIR)
