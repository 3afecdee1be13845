# Both `make demo` and `make test` build the virtual environment themselves.
# torch is installed first, pinned to the CPU build this project is tested with,
# so that pip never pulls a multi-GB CUDA build as a dependency. Override with
# `make test TORCH=torch` to take whatever torch pip picks.
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.skae-installed

.PHONY: demo test test-slow test-all lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test,examples]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

test-all: $(STAMP)
	$(PY) -m pytest -m ""

lint: $(STAMP)
	$(VENV)/bin/ruff check .

$(VENV)/.skae-bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[benchmark]"
	touch $@

bench: $(VENV)/.skae-bench
	$(PY) benchmarks/bench_transformer.py

$(VENV)/.skae-docs: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[docs]"
	touch $@

docs: $(VENV)/.skae-docs
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build dist *.egg-info docs/_build docs/auto_examples docs/generated
