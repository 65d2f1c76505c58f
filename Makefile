# socialmart: two commands on a fresh machine (Python 3.11 + pip):
#   make run    pull every channel (the embedded API sandbox when no config), build, test, publish
#   make test   the whole test suite
# Both create the locked environment first when it is missing.

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: run test ui sandbox bench clean env

env: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Re-sync whenever the lock or the project metadata changes.
$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

run: env
	$(BIN)/socialmart run $(ARGS)

test: env
	$(BIN)/python -m pytest $(ARGS)

ui: env
	$(BIN)/socialmart ui $(ARGS)

sandbox: env
	$(BIN)/socialmart sandbox $(ARGS)

clean:
	rm -rf warehouse dbt_project/target dbt_project/logs .pytest_cache
