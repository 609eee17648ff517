# Two commands on a fresh machine:
#   make run    create .venv, install, train the default model on MNIST, print its test accuracy
#   make test   create .venv, install with test extras, run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Where MNIST lives: keep DLSCRATCH_DATA if set; else use ../shared/data when this checkout has
# one beside it; else the library looks in ~/.cache/dlscratch and downloads there.
ifeq ($(origin DLSCRATCH_DATA), undefined)
  ifneq ($(wildcard ../shared/data/mnist),)
    export DLSCRATCH_DATA := $(abspath ../shared/data)
  endif
endif

.PHONY: run test bench experiments lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	touch $@

run: $(VENV)/.installed
	rm -rf runs/make-run
	$(BIN)/dlscratch train --model two-layer --out runs/make-run

test: $(VENV)/.installed
	DLSCRATCH_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -n 2

bench: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m benchmarks

experiments: $(VENV)/.installed
	$(BIN)/dlscratch experiment all --out experiments-out

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) runs experiments-out .pytest_cache
