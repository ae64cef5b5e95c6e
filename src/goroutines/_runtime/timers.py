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

A synctest bubble's timers are on its fake clock, so they are kept in a heap
of the bubble's own (a ``Heap``, the same fields as a P's), which only the
bubble's driver runs (goroutines/synctest.py): ``add`` puts a timer there
when it is set from inside a bubble (clock.bubble), or when it already
belongs to one (t.p is that heap); ``delete`` needs nothing more. No P sees a
bubble's timer: it neither wakes a P nor counts as a waker for deadlock
detection, which the bubble's driver does for its goroutines.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from itertools import count
from typing import Any, Protocol

from . import clock
from . import events as _events

_seq = count()


class Heap(Protocol):
    """Where timers live: a P (sched.py), or a synctest bubble's BubbleHeap."""

    timer_lock: Any
    timers: list[Any]
    ntimers: int

    def timers_changed(self) -> None: ...


class BubbleHeap:
    """The timers of one synctest bubble, on its fake clock."""

    __slots__ = ("ntimers", "timer_lock", "timers")

    def __init__(self, lock: Any) -> None:
        self.timer_lock = lock
        self.timers: list[Any] = []
        self.ntimers = 0

    def timers_changed(self) -> None:
        """No thread sleeps on a bubble's timers: its driver looks at them."""

    def pop_due(self, now: float) -> list[RTimer]:
        """Take every live timer due at now out of the heap, earliest first."""
        due: list[RTimer] = []
        heap = self.timers
        with self.timer_lock:
            while heap and heap[0][0] <= now:
                entry = heapq.heappop(heap)
                t = entry[2]
                if t is not None:
                    t.entry = None
                    self.ntimers -= 1
                    due.append(t)
        return due

    def next_when(self) -> float | None:
        """When the earliest live timer is due, or None."""
        heap = self.timers
        with self.timer_lock:
            while heap and heap[0][2] is None:
                heapq.heappop(heap)
            return heap[0][0] if heap else None


class RTimer:
    """A runtime timer: at ``when`` the owning P calls ``f(arg, now)``."""

    __slots__ = ("__weakref__", "arg", "entry", "f", "p", "when")

    def __init__(self, f: Callable[[Any, float], None], arg: Any) -> None:
        self.f = f
        self.arg = arg
        self.when = 0.0
        self.entry: list[Any] | None = None
        self.p: Heap | None = None


def add(p: Heap, t: RTimer, when: float) -> None:
    """Put t in p's heap to fire at when (moving it if it is elsewhere).

    Inside a synctest bubble, the bubble's heap instead (module docstring)."""
    if clock._nbubbles:
        b = clock.bubble.get(None)
        if b is not None:
            p = b.heap
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


def next_when(p: Heap) -> float | None:
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


def run_due(p: Heap, now: float | None = None) -> bool:
    """Run every timer of p that is due. Returns whether any ran."""
    heap = p.timers
    if not heap:
        return False
    if now is None:
        now = clock.base()  # a P's heap: never a bubble's clock (clock.py)
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
