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

A synctest bubble (goroutines/synctest.py, Go's internal/synctest). Each
bubble has a clock of its own. ``bubble`` is a ContextVar that holds the
current goroutine's bubble, or nothing: go() runs a goroutine in a copy of
its creator's context (proc.go, and the accelerator's new_g), so every
goroutine a bubble's goroutine starts, transitively, inherits it, with no
hook in go(). While at least one bubble exists, ``read`` is ``_bubble_read``,
which returns the bubble's fake time in a bubble and ``base()`` elsewhere; with
none, ``read`` is ``base`` itself, so the common path stays a plain C call.
``base`` is the runtime clock outside every bubble (what set_clock sets):
the P timer heaps are on it, and the scheduler reads it for them
(timers.run_due, proc's idle wait), since scheduler code runs on the stack of
whichever goroutine parks, a bubble's included. A bubble's timers live in a
heap of its own (timers.py), on its clock.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from threading import Lock
from time import monotonic
from typing import Any

read: Callable[[], float] = monotonic
"""The clock the runtime reads: call it as ``clock.read()`` (see the module
docstring); replace it only through set_clock."""

base: Callable[[], float] = monotonic
"""The runtime's clock outside every synctest bubble: ``read`` when no bubble
exists. The P timer heaps are on it."""

bubble: ContextVar[Any] = ContextVar("goroutines.synctest.bubble")
"""The current goroutine's synctest bubble (an object with a float ``now``),
unset outside every bubble; inherited by the goroutines it starts."""

_nbubbles = 0  # bubbles that exist; changed under _bubbles_lock
_bubbles_lock = Lock()  # taken by a bubble's creator at its start and end only
# Called with the new _nbubbles after each change, under _bubbles_lock
# (watch_bubbles): the accelerator's Chan.__init__ keeps a C copy of it.
_bubble_watchers: list[Callable[[int], object]] = []


def _bubble_read() -> float:
    """``read`` while some bubble exists: its fake time inside it."""
    b = bubble.get(None)
    if b is None:
        return base()
    now: float = b.now
    return now


def enter_bubble() -> None:
    """A bubble starts: ``read`` becomes bubble-aware (module docstring)."""
    global read, _nbubbles
    with _bubbles_lock:
        _nbubbles += 1
        read = _bubble_read
        for fn in _bubble_watchers:
            fn(_nbubbles)


def exit_bubble() -> None:
    """A bubble has ended (every goroutine of it exited)."""
    global read, _nbubbles
    with _bubbles_lock:
        _nbubbles -= 1
        if _nbubbles <= 0:
            _nbubbles = 0
            read = base
        for fn in _bubble_watchers:
            fn(_nbubbles)


def watch_bubbles(fn: Callable[[int], object]) -> None:
    """Call fn(n) with the number of bubbles that exist now, and again after
    each change (under the lock that orders the changes)."""
    with _bubbles_lock:
        _bubble_watchers.append(fn)
        fn(_nbubbles)


def now() -> float:
    """The runtime's clock, in seconds: ``time.monotonic()``, or the fake clock
    inside a synctest bubble. Timer channel values and context deadlines are
    readings of it. Go: ``time.Now()``, as a monotonic reading."""
    return read()


def set_clock(fn: Callable[[], float] | None) -> Callable[[], float]:
    """Make fn the runtime's clock (None: ``time.monotonic`` again) and return
    the previous one. Only while no timer is pending (module docstring)."""
    global read, base
    if fn is not None and not callable(fn):
        raise TypeError(f"clock must be callable, got {type(fn).__name__}")
    with _bubbles_lock:
        if _nbubbles:
            raise RuntimeError("set_clock: a synctest bubble is running")
        prev = read
        read = base = monotonic if fn is None else fn
    return prev


__all__ = [
    "base",
    "bubble",
    "enter_bubble",
    "exit_bubble",
    "now",
    "read",
    "set_clock",
    "watch_bubbles",
]
