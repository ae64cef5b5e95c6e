"""The runtime's clock: what ``goroutines.now()`` reads, and every timer with it.

Runtime time is seconds on one clock, by default ``time.monotonic()``. It is
read for: a timer's ``when`` and the ``now`` its function is called with
(timers.py), the scheduler's wait for its next timer (proc.py), a
goroutine's sleep deadline, the value a timer channel sends (Timer, Ticker,
after, tick: _time.py), and a context's deadline (context.py). A synctest
bubble will run its goroutines on a fake clock instead; this module is where
that clock plugs in.

The hook. ``read`` is the function the runtime reads time through.
``set_clock(fn)`` replaces it and returns the previous one. Everything reads
it as ``clock.read()``, the module attribute looked up at each call (as cheap
as a global lookup), never bound by ``from .clock import read``: so a
replacement takes effect everywhere at once. ``now()`` is the public
function: its identity never changes (``from goroutines import now`` keeps
working across a replacement), at the cost of one Python call.

Invariants of a clock passed to set_clock:
  * it never goes backwards;
  * it advances at the rate of time.monotonic() while a program's goroutines
    wait for a timer, because the scheduler turns ``when - clock.read()``
    into a real wait (see what a bubble needs, below);
  * it is replaced only while no timer is pending (in no P's heap, no channel
    timer armed, no context deadline live): a timer's ``when`` is a reading of
    the clock that was current when it was set, and means nothing to another.
This module imports nothing from goroutines: the whole library may use it.

What stays on ``time.monotonic()``, on purpose, because it measures the
real time of real things, which a fake clock must not change: the wait that
puts a Mutex in starvation mode (Go's mutex reads nanotime, not the bubble's
clock), a foreign thread's sleep (it sleeps the OS thread), the grace period
deadlock detection gives a new daemon thread, the waits at exit, and the C
accelerator's lock timeouts.

What a synctest bubble will need beyond this hook (Go's
internal/synctest): one clock per bubble, not one per process, so ``read``
becomes a function that returns the current goroutine's bubble time (or
time.monotonic() outside a bubble; installed only while a bubble exists, so
that the common path stays a plain C call); the bubble's timers kept apart
from the real ones, since their ``when`` is on another clock; and the
scheduler, instead of sleeping ``when - now`` for a bubble's timer, advancing
the bubble's clock to the earliest such timer once every goroutine of the
bubble is durably blocked (the deadlock detector's test, restricted to the
bubble).
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic

read: Callable[[], float] = monotonic
"""The clock the runtime reads: call it as ``clock.read()`` (see the module
docstring); replace it only through set_clock."""


def now() -> float:
    """The runtime's clock, in seconds: ``time.monotonic()``, or the fake clock
    inside a synctest bubble. Timer channel values and context deadlines are
    readings of it. Go: ``time.Now()``, as a monotonic reading."""
    return read()


def set_clock(fn: Callable[[], float] | None) -> Callable[[], float]:
    """Make fn the runtime's clock (None: ``time.monotonic`` again) and return
    the previous one. Only while no timer is pending (module docstring)."""
    global read
    if fn is not None and not callable(fn):
        raise TypeError(f"clock must be callable, got {type(fn).__name__}")
    prev = read
    read = monotonic if fn is None else fn
    return prev


__all__ = ["now", "read", "set_clock"]
