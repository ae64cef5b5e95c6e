"""Shared test set-up: every test runs with a timeout (pyproject: timeout=60)."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--short", action="store_true", help="shrink loops (testing.Short)")


@pytest.fixture
def short(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--short")) or os.environ.get("GOROUTINES_SHORT") == "1"
