# Two commands: `make run` (try or run the bot) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean compile

# Our own modules' bytecode, written ahead: where PYTHONDONTWRITEBYTECODE is set
# (some CI images and containers), every start would compile them again. Only what
# changed is compiled again.
PACKAGES := bot handlers storage scheduler panel benchmarks tests

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Set up, migrate the store and start: Telegram with a token, else the terminal chat
# with the demo edition (open copies of the shipped survey and contest, kept apart from
# the real ones; `--demo` does nothing on Telegram, where the real edition is served).
run: $(STAMP) compile
	$(BIN)/lokalnie run --demo

# Set up, make sure the test servers are there, run every test (one worker per core,
# each with its own servers, databases and ports).
test: $(STAMP) compile
	./scripts/ensure-test-servers
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n auto

compile: $(STAMP)
	@$(BIN)/python -m compileall -q $(PACKAGES)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP) compile
	$(BIN)/python -m benchmarks.chat_load
	$(BIN)/python -m benchmarks.broadcast

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
