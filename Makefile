# Two entry points (see README): `make book` and `make test`.
# Each creates and fills the local virtual environment .venv if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= paper

.PHONY: book test venv clean

$(BIN)/kdoffload: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

venv: $(BIN)/kdoffload

book: venv
	$(BIN)/kdoffload book --profile $(PROFILE)

# Unit tests; the chapter notebooks against their stored smoke outputs (plain nbval: the
# sanitize file is in pyproject.toml); then the book from the committed executed chapters,
# checked to come from one profile, warnings as errors.
test: venv
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --nbval notebooks/
	$(BIN)/kdoffload book --no-run --strict

clean:
	rm -rf _build .cache
