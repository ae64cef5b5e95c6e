"""Shared test set-up: every test runs with a timeout (pyproject: timeout=60)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--short", action="store_true", help="shrink loops (testing.Short)")


@pytest.fixture
def short(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--short")) or os.environ.get("GOROUTINES_SHORT") == "1"


@pytest.fixture
def racy() -> Iterator[None]:
    """Switch OS threads every 10 µs, so cross-thread races really interleave."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


@pytest.fixture(autouse=True)
def _retire_idle_helpers() -> Iterator[None]:
    """After each test, let the blocking() helper threads it left idle exit now
    rather than 10-20 s later, in the middle of other tests.

    A test that made hundreds of blocking() calls otherwise leaves as many idle
    helper threads behind. The full suite, run with ~100 of them waiting to
    retire, crashed the interpreter (SIGSEGV) in a later test in a few runs
    out of every twenty, the crashing thread never caught in a dump. Retiring
    them is what a long-running program sees anyway; helpers still running a
    call are left alone.
    """
    yield
    from goroutines._runtime import blocking as pool

    if pool._pool_threads:
        pool.retire_idle_helpers()
        deadline = time.monotonic() + 2.0
        while pool._pool_idle and time.monotonic() < deadline:
            time.sleep(0.001)
