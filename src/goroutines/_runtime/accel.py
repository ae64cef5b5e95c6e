"""The optional C accelerator, or None.

``_speedups.c`` ports the hottest paths (go, Chan.send/recv/recv_ok and
iteration, select and its case constructors, WaitGroup.add/done, park_g,
ready, GWaiter.wake, the queue-only round of _find_runnable) and supplies the
lock type of park tokens, channels and the sync primitives. The
Python code stays the reference and the fallback: it runs when the extension
was not built (no compiler, a free-threaded interpreter) or when the
environment variable GOROUTINES_PURE is set to anything but "" or "0" before
goroutines is imported. Both paths run the same test suite.

The extension keeps its state in C statics shared by the whole process, so
it serves the main interpreter only: in a subinterpreter it refuses to load
(or, loaded by the main one first, is not used), and goroutines runs its
pure-Python runtime there.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

speedups: Any = None
if os.environ.get("GOROUTINES_PURE", "") in ("", "0"):
    try:
        speedups = importlib.import_module("goroutines._runtime._speedups")
    except ImportError:  # not built here, or a subinterpreter: the pure-Python runtime
        speedups = None
    if speedups is not None and not speedups.in_main_interpreter():
        speedups = None

def install(target: Any, ports: dict[str, Any]) -> None:
    """Put each C port in ports in place of the Python function of the same
    name on target (a class, or a module's ``globals()``), wrapped so that it
    keeps that function's docs, signature and pickling, binds as a method, and
    hands calls with keyword arguments to it."""
    for name, port in ports.items():
        if isinstance(target, dict):
            target[name] = speedups.method(port, target[name])
        else:
            setattr(target, name, speedups.method(port, getattr(target, name)))


__all__ = ["install", "speedups"]
