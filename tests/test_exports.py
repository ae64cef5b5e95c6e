"""The public names: goroutines.__all__ is pinned to the API reference.

The expected names are copied by hand from docs/api.md (the test does not
parse it): the sections "Goroutines and the runtime", "Errors", "Channels",
"select", "Time", "sync", "context" and "errgroup", and the names of the
second milestone that have shipped. Adding a public name means documenting it
in docs/api.md and adding it here (tests/test_docs.py checks that docs/api.md
names every public name).
"""

from __future__ import annotations

import importlib

import pytest

import goroutines

# docs/api.md#goroutines-and-the-runtime
RUNTIME = [
    "go",
    "Goroutine",
    "current",
    "gosched",
    "wait_readable",
    "wait_writable",
    "notify_closing",
    "num_goroutine",
    "max_procs",
    "run",
    "blocking",
    "dump",
]
# docs/api.md#errors (all importable from goroutines)
ERRORS = ["Deadlock", "GoroutinePanic", "ChannelClosedError"]
# docs/api.md#channels (RecvChan/SendChan are the Protocols)
CHANNELS = ["Chan", "RecvChan", "SendChan"]
# docs/api.md#select (select_async: select from asyncio)
SELECT = ["select", "recv", "recv_ok", "send", "select_async"]
# docs/api.md#time
TIME = ["sleep", "after", "tick", "Timer", "Ticker", "after_func"]
# docs/api.md#sync
SYNC = [
    "WaitGroup",
    "Mutex",
    "RWMutex",
    "Once",
    "once_func",
    "once_value",
    "once_values",
    "Cond",
    "Semaphore",
    "AtomicInt",
]
# The second milestone's names that have shipped (docs/api.md#time: now).
SECOND_MILESTONE = ["now", "leaks"]
# Public additions beyond Go's surface: the concrete
# classes of the directional views that send_only()/recv_only() return.
EXTRAS = ["RecvOnly", "SendOnly"]

API_NAMES = RUNTIME + ERRORS + CHANNELS + SELECT + TIME + SYNC + SECOND_MILESTONE

# docs/api.md#context and docs/api.md#errgroup
SUBMODULES = {
    "goroutines.context": [
        "Context",
        "background",
        "todo",
        "with_cancel",
        "with_cancel_cause",
        "with_timeout",
        "with_deadline",
        "with_value",
        "without_cancel",
        "after_func",
        "cause",
        "Canceled",
        "DeadlineExceeded",
    ],
    "goroutines.errgroup": ["Group", "with_context"],
    # docs/api.md#testing
    "goroutines.testing": ["verify_none"],
}


def test_all_lists_exactly_the_api_names() -> None:
    exported = set(goroutines.__all__)
    missing = sorted(set(API_NAMES) - exported)
    unexpected = sorted(exported - set(API_NAMES) - set(EXTRAS))
    assert not missing, f"docs/api.md names missing from goroutines.__all__: {missing}"
    assert not unexpected, f"names in goroutines.__all__ that docs/api.md does not list: {unexpected}"


def test_all_has_no_duplicates() -> None:
    assert len(goroutines.__all__) == len(set(goroutines.__all__))


@pytest.mark.parametrize("name", API_NAMES + EXTRAS)
def test_every_public_name_is_importable(name: str) -> None:
    assert hasattr(goroutines, name), f"goroutines.{name} is missing"


@pytest.mark.parametrize("name", RUNTIME + SELECT + TIME[:3] + ["after_func", "now"])
def test_functions_are_callable(name: str) -> None:
    assert callable(getattr(goroutines, name))


@pytest.mark.parametrize("name", ERRORS)
def test_errors_are_runtime_errors(name: str) -> None:
    assert issubclass(getattr(goroutines, name), RuntimeError)


def test_no_private_name_is_exported() -> None:
    assert not [n for n in goroutines.__all__ if n.startswith("_")]


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from goroutines import *", namespace)
    namespace.pop("__builtins__", None)
    assert sorted(namespace) == sorted(goroutines.__all__)


@pytest.mark.parametrize(
    ("module", "name"), [(m, n) for m, names in SUBMODULES.items() for n in names]
)
def test_submodule_names_are_importable(module: str, name: str) -> None:
    mod = importlib.import_module(module)
    assert hasattr(mod, name), f"{module}.{name} is missing"


def test_command_line_module_exists() -> None:
    main = importlib.import_module("goroutines.__main__")
    assert callable(main.main)
