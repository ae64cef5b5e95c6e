"""A test-only stand-in for sysmon: a plain thread that drives the runtime's
preemption and Ctrl-C escalation interface the way the monitor thread does.

Every TICK it looks at each P: when p.schedtick has not changed for
FORCE_AFTER while the P is not idle, it calls preempt.request(p) (again on
every later tick, as sysmon does); when it changed, preempt.cancel(p). It
also calls panic.sigint_watch(now). Drop it once the runtime's own monitor
thread exists.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from goroutines._runtime import panic, preempt
from goroutines._runtime import sched as _sched

TICK = 0.002
FORCE_AFTER = 0.010


class Monitor:
    def __init__(self, tick: float = TICK, force_after: float = FORCE_AFTER) -> None:
        self.tick = tick
        self.force_after = force_after
        self.requests = 0
        self._stop = threading.Event()
        self._seen: dict[Any, tuple[int, float]] = {}
        self._thread = threading.Thread(target=self._run, name="test-sysmon", daemon=True)

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for p in list(_sched._all_ps):
            preempt.cancel(p)

    def __enter__(self) -> Monitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.tick):
            now = time.monotonic()
            panic.sigint_watch(now)
            for p in list(_sched._all_ps):
                tick = p.schedtick
                seen = self._seen.get(p)
                if seen is None or seen[0] != tick or p.idle:
                    # The P scheduled at some time since the last look: count
                    # from then. While a goroutine holds the GIL this thread
                    # looks only every switch interval (5 ms); counting from
                    # now would let a slice run up to 10 ms + two intervals.
                    self._seen[p] = (tick, last)
                    preempt.cancel(p)
                elif now - seen[1] >= self.force_after:
                    self.requests += 1
                    preempt.request(p)
            last = now


def start() -> Monitor:
    """Start a monitor for the rest of the process (subprocess tests)."""
    return Monitor().start()
