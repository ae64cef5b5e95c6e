"""The optional C accelerator, or None.

``_speedups.c`` ports the hottest paths (Chan.send/recv/recv_ok, park_g,
ready, GWaiter.wake) and supplies the park-token/channel-lock type. The
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
