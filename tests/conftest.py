"""Shared test set-up: every test runs with a timeout (pyproject: timeout=60)."""

from __future__ import annotations

import os
import sys
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
