"""The race detector (``python -m goroutines run --race``).

``detector``: vector clocks, FastTrack's shadow state and the reports;
``hooks``: the happens-before edges of the library's synchronizing
operations, installed by ``enable()`` only; ``instrument``: the AST rewrite
of the program's own modules and the import hook; ``rt``: what the
rewritten code calls.

The detector works on the pure-Python path: ``python -m goroutines run
--race`` sets ``GOROUTINES_PURE=1`` before goroutines is imported (it
re-executes itself when needed), so the C accelerator is not loaded and its
fast paths need no events. Nothing here is imported, and nothing is wrapped,
unless the detector is enabled: a program run without it pays nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from . import detector, hooks, instrument

__all__ = ["enable", "found", "run_path", "summary"]

EXIT_STATUS = 66  # Go's exit status for a program in which races were found

_finder: instrument.Finder | None = None


def enable(root: str, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
    """Install the synchronization hooks and the import hook for the modules
    under root (and include, not exclude). Call before the program's modules
    are imported."""
    global _finder
    hooks.enable()
    if _finder is None:
        _finder = instrument.install(root, include, exclude)
    _allow_nested_run()


def found() -> int:
    """How many races have been reported so far."""
    return detector.found[0]


def summary() -> int:
    """Print ``Found N data race(s)`` (if any) and return N."""
    return detector.summary()


def run_path(path: str, run_name: str = "__main__") -> dict[str, Any]:
    """runpy.run_path for an instrumented script."""
    with open(path, "rb") as f:
        source = f.read()
    code = instrument.compile_source(source, path)
    mod = ModuleType(run_name)
    mod.__file__ = path
    mod.__builtins__ = __builtins__  # type: ignore[attr-defined]
    saved = sys.modules.get(run_name)
    sys.modules[run_name] = mod
    try:
        exec(code, mod.__dict__)
    finally:
        if saved is not None:
            sys.modules[run_name] = saved
    return mod.__dict__


_in_command = [False]


def _allow_nested_run() -> None:
    """A script run by the command that calls goroutines.run(main) itself
    (the examples do): main is called in the main goroutine already running."""
    import goroutines

    from .. import _go

    orig = _go.run

    def run(main: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        if _in_command[0]:
            from .._runtime import sched

            p = sched.tls.p
            if p is not None and p.curg is p.g1:
                return main(*args, **kwargs)
        return orig(main, *args, **kwargs)

    run.__doc__ = orig.__doc__
    goroutines.run = run
    _go.run = run


def pure_env() -> dict[str, str] | None:
    """The environment to re-execute with (GOROUTINES_PURE=1), or None when
    this process already runs the pure path."""
    if os.environ.get("GOROUTINES_PURE") == "1":
        return None
    env = dict(os.environ)
    env["GOROUTINES_PURE"] = "1"
    return env
