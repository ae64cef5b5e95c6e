"""The raw-greenlet floor: the least any greenlet runtime must do per operation.

A minimal single-threaded scheduler on the greenlet package, written for the
benchmark only. It is the lower bound the goroutines runtime is measured
against ("each row as a ratio to the floor"): what goroutines spends above it
is the price of its guarantees (threads, asyncio interop, tokens against stale
wake-ups, panics, deadlock dumps, contextvars, timers that do not starve).

Design, chosen to be as cheap as a sound greenlet scheduler can be:
  * Direct hand-off: a greenlet that parks switches straight to the next
    runnable greenlet; there is no hub in the hot path. A ping-pong round trip
    costs two switches.
  * Readying appends to one FIFO run queue (no runnext, no fairness counters).
  * Worker reuse: a task is a (fn, args) tuple until it first runs; a worker
    greenlet that finishes a task runs the next unstarted task in place, with
    no switch, and otherwise waits in a free list for the next one.
  * New workers are started from the root greenlet. greenlet (3.x, CPython
    3.11) starts a greenlet with the recursion depth of the code that switched
    into it first; starting workers from deep inside parked ones would pile
    those depths up until RecursionError (a chain of 1,000 parked goroutines
    is enough). Starting them from the root costs one extra switch per new
    worker and keeps every worker shallow.
  * Channels are plain deques with no lock; a waiter is a list
    [greenlet, value, ok, select_state, case_index]. select handles receive
    cases only (all W6 needs) and leaves its stale waiters in the other
    channels' queues, where senders skip them.
  * Timers: a heap, looked at whenever control passes through the root (when
    nothing is runnable, and on each new worker's start); a due sleeper goes
    to the front of the run queue, ahead of unstarted tasks.
Not provided: threads, panics (an exception in a task propagates out of run),
deadlock dumps, contextvars, cancellation of parked tasks.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterator
from itertools import count
from time import perf_counter
from time import sleep as _os_sleep
from typing import Any

from greenlet import getcurrent, greenlet

Task = tuple[Callable[..., Any], tuple[Any, ...]]

_runq: deque[Any] = deque()  # greenlets to resume, or Tasks not started yet
_free: list[Any] = []  # idle worker greenlets
_timers: list[tuple[float, int, Any]] = []  # heap of (when, seq, greenlet)
_seq = count()
_root: Any = None  # the greenlet that called run(): idles, starts workers


def go(fn: Callable[..., Any], *args: Any) -> None:
    """Start fn(*args) as a task."""
    _runq.append((fn, args))


def _worker(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    me = getcurrent()
    while True:
        fn(*args)
        nxt = _runq.popleft() if _runq else _root
        if nxt.__class__ is tuple:
            fn, args = nxt  # run the next new task right here
            continue
        _free.append(me)
        fn, args = nxt.switch()  # resumed by whoever hands this worker a task


def _park() -> None:
    """Switch to the next runnable greenlet; return when readied."""
    nxt = _runq.popleft() if _runq else _root
    if nxt.__class__ is tuple:
        if _free:
            _free.pop().switch(nxt)
        else:
            _root.switch(nxt)  # the root starts a new worker (see header)
    else:
        nxt.switch()


def gosched() -> None:
    _runq.append(getcurrent())
    _park()


def sleep(d: float) -> None:
    heapq.heappush(_timers, (perf_counter() + d, next(_seq), getcurrent()))
    _park()


def run(main: Callable[..., Any], *args: Any) -> Any:
    """Run main(*args) as a task; return its result when it returns.

    Tasks still parked then are abandoned.
    """
    global _root
    _root = getcurrent()
    result: list[Any] = []

    def main_task() -> None:
        result.append(main(*args))
        _root.switch(())

    go(main_task)
    msg: Any = ()
    while True:
        if _timers and _timers[0][0] <= perf_counter():
            _run_due_timers()
        if msg:  # a task to start on a new worker
            msg = greenlet(_worker, _root).switch(*msg)
            continue
        if result:
            break
        if _runq:
            nxt = _runq.popleft()
            if nxt.__class__ is tuple:
                msg = _free.pop().switch(nxt) if _free else nxt
            else:
                msg = nxt.switch()
        elif _timers:
            delay = _timers[0][0] - perf_counter()
            if delay > 0:
                _os_sleep(delay)
            _run_due_timers()
        else:
            raise RuntimeError("floor: all tasks are asleep - deadlock!")
    _runq.clear()
    _free.clear()
    _timers.clear()
    return result[0]


def _run_due_timers() -> None:
    now = perf_counter()
    while _timers and _timers[0][0] <= now:
        _runq.appendleft(heapq.heappop(_timers)[2])  # before unstarted work


class Chan:
    """A channel: unbuffered when cap is 0, else a FIFO buffer of cap values."""

    __slots__ = ("buf", "cap", "closed", "recvq", "sendq")

    def __init__(self, cap: int = 0) -> None:
        self.cap = cap
        self.buf: deque[Any] = deque()
        self.recvq: deque[list[Any]] = deque()
        self.sendq: deque[list[Any]] = deque()
        self.closed = False

    def send(self, value: Any) -> None:
        if self.closed:
            raise RuntimeError("send on closed channel")
        recvq = self.recvq
        while recvq:
            w = recvq.popleft()
            sel = w[3]
            if sel is not None:
                if sel[0] >= 0:
                    continue  # a select that completed elsewhere
                sel[0] = w[4]
            w[1] = value
            w[2] = True
            _runq.append(w[0])
            return
        if len(self.buf) < self.cap:
            self.buf.append(value)
            return
        w = [getcurrent(), value, False, None, 0]
        self.sendq.append(w)
        _park()
        if not w[2]:
            raise RuntimeError("send on closed channel")

    def recv_ok(self) -> tuple[Any, bool]:
        buf = self.buf
        sendq = self.sendq
        if buf:
            value = buf.popleft()
            if sendq:  # a blocked sender's value takes the freed slot
                w = sendq.popleft()
                buf.append(w[1])
                w[2] = True
                _runq.append(w[0])
            return value, True
        if sendq:
            w = sendq.popleft()
            w[2] = True
            _runq.append(w[0])
            return w[1], True
        if self.closed:
            return None, False
        w = [getcurrent(), None, False, None, 0]
        self.recvq.append(w)
        _park()
        return w[1], w[2]

    def recv(self) -> Any:
        return self.recv_ok()[0]

    def __iter__(self) -> Iterator[Any]:
        while True:
            value, ok = self.recv_ok()
            if not ok:
                return
            yield value

    def close(self) -> None:
        if self.closed:
            raise RuntimeError("close of closed channel")
        self.closed = True
        for w in self.recvq:
            sel = w[3]
            if sel is not None:
                if sel[0] >= 0:
                    continue
                sel[0] = w[4]
            _runq.append(w[0])  # w[2] stays False: closed
        self.recvq.clear()
        for w in self.sendq:
            _runq.append(w[0])
        self.sendq.clear()

    def _ready(self) -> bool:
        return bool(self.buf or self.sendq or self.closed)


_rotor = count()


def select_recv(*chans: Chan | None) -> tuple[int, Any, bool]:
    """Receive from whichever channel is ready first: (index, value, ok).

    A None channel is never ready. Ready cases are polled round-robin.
    """
    n = len(chans)
    start = next(_rotor) % n
    for k in range(n):
        i = (start + k) % n
        ch = chans[i]
        if ch is not None and ch._ready():
            value, ok = ch.recv_ok()
            return i, value, ok
    sel = [-1]  # index of the case that fired, once one has
    me = getcurrent()
    waiters = []
    for i, ch in enumerate(chans):
        w = [me, None, False, sel, i]
        waiters.append(w)
        if ch is not None:
            ch.recvq.append(w)
    _park()
    w = waiters[sel[0]]
    return sel[0], w[1], w[2]


class WaitGroup:
    __slots__ = ("n", "waiters")

    def __init__(self) -> None:
        self.n = 0
        self.waiters: list[Any] = []

    def add(self, delta: int) -> None:
        n = self.n = self.n + delta
        if n <= 0:
            if n < 0:
                raise RuntimeError("sync: negative WaitGroup counter")
            _runq.extend(self.waiters)
            self.waiters.clear()

    def done(self) -> None:
        self.add(-1)

    def wait(self) -> None:
        if self.n:
            self.waiters.append(getcurrent())
            _park()
