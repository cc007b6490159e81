# The two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run stop logs test lint typecheck unit bench rebuild-ticket-view contracts-export clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed: $(UV) uv.lock pyproject.toml contracts/pyproject.toml services/*/pyproject.toml tools/devstack/pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python -m devstack run

stop: install
	$(BIN)/python -m devstack stop

logs:
	tail -n 20 -F $${PORTAL_VAR_DIR:-var}/log/*.log

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy contracts/src services/portal-config/src services/ticket-view/src services/notifier/src services/gateway/src tools/devstack/src

# A private base temp dir: pytest prunes old numbered dirs under the shared default one, which
# would delete the embedded PostgreSQL of a concurrently running suite.
PYTEST_BASETEMP ?= $(CURDIR)/var/pytest

test: lint typecheck
	mkdir -p $(dir $(PYTEST_BASETEMP))
	$(BIN)/pytest --basetemp=$(PYTEST_BASETEMP)

bench: install
	$(BIN)/python -m devstack bench

rebuild-ticket-view: install
	$(BIN)/python -m devstack rebuild-ticket-view

contracts-export: install
	$(BIN)/python -m portal_contracts.export contracts/schema

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
