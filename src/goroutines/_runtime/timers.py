"""Runtime timers: one heap per P (Go's runtime/time.go, simplified).

Every timed thing is an RTimer in the heap of the P that will run it: a
sleeping goroutine, an ``after_func``, a context deadline, and a channel timer
(``after``/``Timer``/``Ticker``) while a goroutine is blocked receiving from it.
A timer in a heap is held strongly and counts as a possible waker for deadlock
detection; a channel timer nobody waits on is *not* in any heap (Go 1.23), so it
is collectable and keeps nothing alive.

Heap entries are lists ``[when, seq, timer]``. Deleting a timer clears the
entry's third slot (lazy deletion, O(1)); dead entries are dropped when they
reach the top, and the heap is rebuilt when they outnumber the live ones.

Invariants, whenever p.timer_lock is free:
  * t.entry is not None  <=>  t is live in p.timers, and t.entry[2] is t.
  * p.ntimers == number of live entries in p.timers.
Lock order: a primitive's lock may be held while taking p.timer_lock, never
the reverse; timer functions run with no lock held.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from itertools import count
from typing import TYPE_CHECKING, Any

from . import clock
from . import events as _events

if TYPE_CHECKING:
    from .sched import P

_seq = count()


class RTimer:
    """A runtime timer: at ``when`` the owning P calls ``f(arg, now)``."""

    __slots__ = ("__weakref__", "arg", "entry", "f", "p", "when")

    def __init__(self, f: Callable[[Any, float], None], arg: Any) -> None:
        self.f = f
        self.arg = arg
        self.when = 0.0
        self.entry: list[Any] | None = None
        self.p: P | None = None


def add(p: P, t: RTimer, when: float) -> None:
    """Put t in p's heap to fire at when (moving it if it is elsewhere)."""
    if t.entry is not None:
        delete(t)
    lock = p.timer_lock
    lock.acquire()
    t.when = when
    t.p = p
    entry = [when, next(_seq), t]
    t.entry = entry
    heap = p.timers
    heapq.heappush(heap, entry)
    p.ntimers += 1
    earliest = heap[0] is entry
    lock.release()
    if earliest:
        p.timers_changed()


def delete(t: RTimer) -> bool:
    """Take t out of its heap. Returns whether it was there."""
    p = t.p
    if p is None:
        return False
    lock = p.timer_lock
    lock.acquire()
    entry = t.entry
    if entry is None:
        lock.release()
        return False
    entry[2] = None
    t.entry = None
    p.ntimers -= 1
    heap = p.timers
    if len(heap) > 64 and p.ntimers * 2 < len(heap):
        heap[:] = [e for e in heap if e[2] is not None]
        heapq.heapify(heap)
    lock.release()
    return True


def next_when(p: P) -> float | None:
    """When p's earliest live timer is due, or None. Drops dead tops."""
    heap = p.timers
    if not heap:
        return None
    lock = p.timer_lock
    lock.acquire()
    while heap and heap[0][2] is None:
        heapq.heappop(heap)
    when = heap[0][0] if heap else None
    lock.release()
    return when


def run_due(p: P, now: float | None = None) -> bool:
    """Run every timer of p that is due. Returns whether any ran."""
    heap = p.timers
    if not heap:
        return False
    if now is None:
        now = clock.read()
    if heap[0][0] > now:
        return False
    due: list[RTimer] = []
    lock = p.timer_lock
    lock.acquire()
    while heap and heap[0][0] <= now:
        entry = heapq.heappop(heap)
        t = entry[2]
        if t is not None:
            t.entry = None
            p.ntimers -= 1
            due.append(t)
    lock.release()
    for t in due:
        if _events.hook is not None:
            _events.hook(_events.TIMER, None, t)
        t.f(t.arg, now)
    return bool(due)
