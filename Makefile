# Watchkeeper developer commands. `make run` starts the demo, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check bench install format clean screenshots

$(STAMP): requirements/dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/watchkeeper demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

check: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy --strict

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The dashboard's browser tests in Chromium, saving their screenshots into docs/screenshots.
screenshots: $(STAMP)
	WATCHKEEPER_SCREENSHOT_DIR=docs/screenshots WATCHKEEPER_REQUIRE_INTEGRATION=1 \
		$(BIN)/python -m pytest -q tests/integration -k browser

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
