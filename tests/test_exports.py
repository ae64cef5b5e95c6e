"""The public names: goroutines.__all__ is pinned to API.md.

The expected names are copied by hand from API.md (shared/API.md; CI only has
a read-only copy at ../shared, so the test does not parse it): the sections
"Goroutines and the runtime", "Channels", "select", "Time", "sync", the
Errors list, and the names "Added in the second milestone" that have shipped.
Adding a public name means adding it to API.md and here.
"""

from __future__ import annotations

import importlib

import pytest

import goroutines

# API.md, "Goroutines and the runtime — goroutines"
RUNTIME = [
    "go",
    "Goroutine",
    "current",
    "gosched",
    "wait_readable",
    "wait_writable",
    "num_goroutine",
    "max_procs",
    "run",
    "blocking",
    "dump",
]
# API.md, "Errors (all importable from goroutines)"
ERRORS = ["Deadlock", "GoroutinePanic", "ChannelClosedError"]
# API.md, "Channels — Chan[T]" (RecvChan/SendChan are the Protocols)
CHANNELS = ["Chan", "RecvChan", "SendChan"]
# API.md, "select" (select_async: "also await select_async(...) from asyncio")
SELECT = ["select", "recv", "recv_ok", "send", "select_async"]
# API.md, "Time — goroutines"
TIME = ["sleep", "after", "tick", "Timer", "Ticker", "after_func"]
# API.md, "sync — goroutines"
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
# API.md, "Added in the second milestone" (names of the goroutines module)
SECOND_MILESTONE = ["now"]
# Public additions API.md allows ("additions are welcome"): the concrete
# classes of the directional views that send_only()/recv_only() return.
EXTRAS = ["RecvOnly", "SendOnly"]

API_NAMES = RUNTIME + ERRORS + CHANNELS + SELECT + TIME + SYNC + SECOND_MILESTONE

# API.md, "context — goroutines.context" and "errgroup — goroutines.errgroup"
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
}


def test_all_lists_exactly_the_api_names() -> None:
    exported = set(goroutines.__all__)
    missing = sorted(set(API_NAMES) - exported)
    unexpected = sorted(exported - set(API_NAMES) - set(EXTRAS))
    assert not missing, f"API.md names missing from goroutines.__all__: {missing}"
    assert not unexpected, f"names in goroutines.__all__ that API.md does not list: {unexpected}"


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
