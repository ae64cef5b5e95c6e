"""The optional C accelerator, or None.

``_speedups.c`` ports the hottest paths (go, Chan.send/recv/recv_ok and
iteration, select and its case constructors, WaitGroup.add/done, park_g,
ready, GWaiter.wake, the queue-only round of _find_runnable) and supplies the
lock type of park tokens, channels and the sync primitives. The
Python code stays the reference and the fallback: it runs when the extension
was not built (no compiler, a free-threaded interpreter) or when the
environment variable GOROUTINES_PURE is set to anything but "" or "0" before
goroutines is imported. Both paths run the same test suite.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

speedups: Any = None
if os.environ.get("GOROUTINES_PURE", "") in ("", "0"):
    try:
        speedups = importlib.import_module("goroutines._runtime._speedups")
    except ImportError:  # not built here: the pure-Python runtime
        speedups = None

__all__ = ["speedups"]
