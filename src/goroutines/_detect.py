"""The detectors of ``python -m goroutines run``: ``--leaks`` (``leaks()``
when the script returns) and ``--lockorder`` (lock-order inversions as they
are found). The command line calls ``start`` before the script, ``leak_report``
in the main goroutine when the script returns, ``finish`` for the status."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable

from ._runtime.g import allgs as _allgs

# Exit status when a detector reports something and the script otherwise succeeded.
FOUND_STATUS = 3
# How long --leaks lets runnable goroutines run on before it looks (seconds).
SETTLE = 0.5


def _write(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()


def start(checks: Iterable[str]) -> None:
    if "lockorder" in checks:
        from . import _lockorder

        _lockorder.enable(_write)


def leak_report() -> list[str]:
    """In the main goroutine, when the script has returned: the leak profile,
    if any goroutine is blocked forever."""
    from . import _go, _leaks, _time

    # Let the goroutines that can still run get to their park first (a
    # runnable one is live, and so is all it holds).
    me = _go.current()
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline and any(
        g is not me and g.state in ("runnable", "running") for g in list(_allgs.values())
    ):
        _time.sleep(0.001)
    gs = _leaks.leaks()
    return [_leaks.report(gs)] if gs else []


def finish(checks: Iterable[str], found: list[str]) -> int:
    """Write the reports gathered at the end; the exit status of a script that
    returned."""
    status = 0
    for text in found:
        _write(text)
        status = FOUND_STATUS
    if "lockorder" in checks:
        from . import _lockorder

        n = len(_lockorder.reports())
        if n:
            _write(f"goroutines: found {n} lock order inversion{'s' if n > 1 else ''}")
            status = FOUND_STATUS
    return status


__all__ = ["FOUND_STATUS", "finish", "leak_report", "start"]
