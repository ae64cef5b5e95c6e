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

$(STAMP): pyproject.toml
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

pytest: $(STAMP)
	$(PY) -m pytest

# The same suite on 3.12 and 3.13 (each in its own venv), where present.
test-other-pythons:
	@set -e; for py in $(EXTRA_PYTHONS); do \
	  ver=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  venv=.venv-$$ver; \
	  if [ ! -f $$venv/.installed-dev ] || [ pyproject.toml -nt $$venv/.installed-dev ]; then \
	    $$py -m venv $$venv && $$venv/bin/python -m pip install -q --upgrade pip && \
	    $$venv/bin/python -m pip install -q -e '.[dev]' && touch $$venv/.installed-dev; \
	  fi; \
	  echo "== Python $$ver"; \
	  $$venv/bin/python -m pytest -p no:cacheprovider; \
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
