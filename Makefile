# goroutines: every target creates .venv and installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
.PHONY: all install demo test test-slow test-browser lint typecheck pytest test-other-pythons bench clean


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

# The suite on every interpreter (3.11 in .venv, 3.12 and 3.13 in .venv-3.x
# where this machine has them) on the C accelerator, and on 3.11 on the
# pure-Python reference path too, with two Ps (GOMAXPROCS=2: hand-offs
# between threads happen): four runs, two at a time (one per core), each
# run's output printed whole when it ends. The pure path on 3.12/3.13, the
# one-P runs (GOMAXPROCS=1, every interpreter and path) and the tests marked
# `slow` are left to `make test-slow`.
PYBIN_3.12 := $(lastword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3))
PYBIN_3.13 := $(lastword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3))
OTHER_VERSIONS := $(if $(PYBIN_3.12),3.12) $(if $(PYBIN_3.13),3.13)
OTHER_STAMPS := $(foreach v,$(OTHER_VERSIONS),.venv-$(v)/.installed-dev)
# make test: both paths on the default interpreter, the accelerated path on
# the others (about 10 minutes on two cores); the pure path on the others
# (with two Ps) joins make test-slow, as do all six with one P.
SUITE_RUNS := main-accel main-pure $(foreach v,$(OTHER_VERSIONS),$(v)-accel)
OTHER_PURE_RUNS := $(foreach v,$(OTHER_VERSIONS),$(v)-pure)
ALL_RUNS := $(SUITE_RUNS) $(OTHER_PURE_RUNS)
ONE_P_RUNS := main-accel-p1 main-pure-p1 $(foreach v,$(OTHER_VERSIONS),$(v)-accel-p1 $(v)-pure-p1)
JOBS ?= 2

.venv-%/.installed-dev: $(BUILD_INPUTS)
	$(PYBIN_$*) -m venv .venv-$*
	.venv-$*/bin/python -m pip install -q --upgrade pip
	.venv-$*/bin/python -m pip install -q -e '.[dev]'
	touch $@

# suite-<interpreter>-<path>[-p1]: one run of the suite (PYTEST_ARGS selects);
# -p1: GOMAXPROCS=1, else GOMAXPROCS=2.
PYTEST_ARGS ?= -m "not slow"
suite-%:
	@v=$(word 1,$(subst -, ,$*)); path=$(word 2,$(subst -, ,$*)); \
	procs=$(if $(filter p1,$(word 3,$(subst -, ,$*))),1,2); \
	if [ $$v = main ]; then py=$(PY); else py=.venv-$$v/bin/python; fi; \
	if [ $$path = pure ]; then env="GOROUTINES_PURE=1 GOROUTINES_EXPECT_SPEEDUPS=0"; \
	else env="GOROUTINES_EXPECT_SPEEDUPS=$(EXPECT_SPEEDUPS)"; fi; \
	echo "== $$($$py -c 'import sys; print("Python %d.%d" % sys.version_info[:2])'), $$path path, GOMAXPROCS=$$procs"; \
	env $$env GOMAXPROCS=$$procs $$py -m pytest -p no:cacheprovider $(PYTEST_ARGS)

pytest: $(STAMP) $(OTHER_STAMPS)
	$(MAKE) --no-print-directory -j$(JOBS) --output-sync=target \
	  $(addprefix suite-,$(SUITE_RUNS))

# Kept for habit: the 3.12/3.13 half of the matrix alone.
test-other-pythons: $(OTHER_STAMPS)
	$(MAKE) --no-print-directory -j$(JOBS) --output-sync=target \
	  $(addprefix suite-,$(foreach v,$(OTHER_VERSIONS),$(v)-accel $(v)-pure))

test: lint pytest

# The slow suites: tests marked `slow` (long stress loops, large differential
# runs, the race detector's whole corpus), on every interpreter and both
# paths, then the whole suite with one P (GOMAXPROCS=1) on each.
# `.ci/run` runs it after `make test`.
test-slow: $(STAMP) $(OTHER_STAMPS)
	$(MAKE) --no-print-directory -j$(JOBS) --output-sync=target PYTEST_ARGS='-m slow' \
	  $(addprefix suite-,$(ALL_RUNS))
	$(MAKE) --no-print-directory -j$(JOBS) --output-sync=target \
	  $(addprefix suite-,$(OTHER_PURE_RUNS) $(ONE_P_RUNS))

# The execution tracer's HTML timeline in a real browser: headless Debian
# chromium (installed here when missing, apt-get and root permitting; else
# the test skips, saying why). `.ci/run` runs it after `make test`.
test-browser: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	    s=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	    $$s apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $$s apt-get install -y -q chromium >/dev/null \
	      || echo "test-browser: could not install chromium; the browser test will skip"; \
	  else echo "test-browser: no chromium and no way to install it; the browser test will skip"; fi; }
	$(PY) -m pytest -p no:cacheprovider -rs tests/test_trace_browser.py

$(VENV)/.installed-bench: $(STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $@

# make bench BENCH_ARGS="--quick" (or --only W2,W3 --runtimes goroutines,gevent --repeat 5)
bench: $(VENV)/.installed-bench
	$(PY) bench/run.py $(BENCH_ARGS)

# The network benchmarks (W13-W15) -> docs/benchmarks-net.md; W14 needs
# Debian's wrk (installed here when missing and apt-get is there).
bench-net: $(VENV)/.installed-bench
	command -v wrk >/dev/null || (command -v apt-get >/dev/null && apt-get install -y -q wrk) || true
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/net_run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-3.* build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
	rm -f src/goroutines/_runtime/*.so
