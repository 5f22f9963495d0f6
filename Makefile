# Two commands: `make run` (try or run the bot) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Set up, migrate the store and start: Telegram with a token, else the terminal chat.
run: $(STAMP)
	$(BIN)/lokalnie run

# Set up, make sure the test servers are there, run every test.
test: $(STAMP)
	./scripts/ensure-test-servers
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.updates

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
