# goroutines: every target creates .venv and installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
# Extra interpreters the suite also runs on, when this machine has them.
EXTRA_PYTHONS := $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) \
                 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3)

.PHONY: all install demo test lint typecheck pytest test-other-pythons bench clean

all: test

# What a change to forces a reinstall (the C accelerator is built by pip).
BUILD_INPUTS := pyproject.toml setup.py $(wildcard src/goroutines/_runtime/_speedups/*.[ch])
# 1: the C accelerator must be active in the accelerated runs (a failed build
# fails the suite); 0 where it is not expected to build.
EXPECT_SPEEDUPS ?= 1

$(STAMP): $(BUILD_INPUTS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/showcase.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/mypy --strict src

typecheck: lint

# The suite twice: on the C accelerator, and on the pure-Python reference path.
pytest: $(STAMP)
	GOROUTINES_EXPECT_SPEEDUPS=$(EXPECT_SPEEDUPS) $(PY) -m pytest
	@echo "== pure-Python path (GOROUTINES_PURE=1)"
	GOROUTINES_PURE=1 GOROUTINES_EXPECT_SPEEDUPS=0 $(PY) -m pytest -p no:cacheprovider

# The same suite on 3.12 and 3.13 (each in its own venv), where present.
test-other-pythons:
	@set -e; for py in $(EXTRA_PYTHONS); do \
	  ver=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  venv=.venv-$$ver; \
	  stale=; for f in $(BUILD_INPUTS); do [ $$f -nt $$venv/.installed-dev ] && stale=1; done; \
	  if [ ! -f $$venv/.installed-dev ] || [ -n "$$stale" ]; then \
	    $$py -m venv $$venv && $$venv/bin/python -m pip install -q --upgrade pip && \
	    $$venv/bin/python -m pip install -q -e '.[dev]' && touch $$venv/.installed-dev; \
	  fi; \
	  echo "== Python $$ver"; \
	  GOROUTINES_EXPECT_SPEEDUPS=$(EXPECT_SPEEDUPS) $$venv/bin/python -m pytest -p no:cacheprovider; \
	done

test: lint pytest test-other-pythons

$(VENV)/.installed-bench: $(STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $@

# make bench BENCH_ARGS="--quick" (or --only W2,W3 --runtimes goroutines,gevent --repeat 5)
bench: $(VENV)/.installed-bench
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-3.* build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
	rm -f src/goroutines/_runtime/*.so
