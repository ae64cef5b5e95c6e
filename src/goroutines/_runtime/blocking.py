"""blocking(): run a blocking call on a helper thread while its goroutine parks.

A helper thread runs one call at a time. A call goes straight to an idle
helper (the most recently idled one: surplus helpers stay idle and retire),
else to a new helper thread, else - at the thread limit - into _pool_jobs,
which helpers drain before they go idle. Each idle helper waits on a lock of
its own, so handing it a call is one release: a shared Condition was tried
first, and a notify could be swallowed by a waiter timing out at that moment,
while an idle count that is only lowered when the woken helper runs let a
burst of calls all pick the same idle helper and run one after another.
Helpers are started with _thread.start_new_thread: Thread.start() waits
until the new thread runs, which made 10,000 starts take seconds.
Their stack is HELPER_STACK_SIZE unless the program set a size itself:
10,000 threads at the default 8 MiB reserve 80 GB of address space; 256 KiB
was measured to crash CPython 3.11/3.12 (SIGSEGV) in C recursion that stays
under the default recursion limit; 1 MiB holds it with room to spare.
The switch interval: a thread waiting for the GIL wakes every interval to
ask for it, so thousands of calls ending at once (10,000 blocking(sleep, 1))
make millions of futex wake-ups a second and the GIL crawls - measured on 2
CPUs: over 60 s for 10,000 plain threads sleeping 1 s, on CPython 3.11, 3.12
and 3.13 alike (5,000: 36 s); 6 s at a 0.05 s interval, 2.4 s at 0.1 s. With
BOOST_CALLS calls in flight the runtime raises the interval to BOOST_INTERVAL
and gives the program its own value back once a quarter of that many remain.
That is a process-wide side effect (CPU-bound threads switch every 100 ms
meanwhile), taken only in a regime where the default interval collapses.

The count of calls queued or in flight is sched._blocking_calls (a possible
waker for deadlock detection), changed under sched._sched_lock.
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading
from _thread import allocate_lock, start_new_thread
from collections import deque
from collections.abc import Callable
from random import random as _random
from typing import Any, TypeVar

from . import events as _events
from . import proc as _proc
from . import sched as _sched
from .g import WAIT_SYSCALL
from .panic import check_attention
from .waiter import GWaiter, new_token

T = TypeVar("T")
_copy_context = contextvars.copy_context


_Job = tuple[GWaiter, Callable[..., Any], tuple[Any, ...], dict[str, Any], contextvars.Context]


class _Helper:
    """An idle helper's mailbox: its lock is held while it has no call."""

    __slots__ = ("job", "lock")

    def __init__(self) -> None:
        self.lock = allocate_lock()
        self.lock.acquire()
        self.job: _Job | None = None


_pool_lock = threading.Lock()  # guards _pool_idle, _pool_jobs, _pool_threads
_pool_idle: dict[_Helper, None] = {}  # idle helpers, the most recently idled last
_pool_jobs: deque[_Job] = deque()  # calls waiting for a helper (thread limit reached)
_pool_threads = 0  # helper threads running or starting
_spawn_lock = threading.Lock()  # serializes changing the thread stack size
MAX_HELPER_THREADS = 10_000  # Go's default thread limit (debug.SetMaxThreads)
HELPER_IDLE_SECONDS = 10.0  # a helper idle this long (to twice as long) retires
HELPER_STACK_SIZE = 1 << 20
BOOST_CALLS = 2048  # calls in flight from which the switch interval is raised
BOOST_INTERVAL = 0.1  # seconds (CPython's default is 0.005)
_saved_interval: float | None = None  # the program's interval while raised
_boosted_interval = 0.0  # the raised value as sys.getswitchinterval() reads it


def blocking_call(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    """Run fn on a helper thread while the calling goroutine parks ("syscall").

    fn runs in a copy of the caller's contextvars context (as asyncio.to_thread
    does). Outside a goroutine, fn is simply called.
    """
    p = _sched.getp()
    if p is None:
        _sched.note_foreign()
        return fn(*args, **kwargs)
    if _sched.attention:
        check_attention()
    g = p.curg
    token = new_token()
    w = GWaiter(g, token)
    job: _Job = (w, fn, args, kwargs, _copy_context())
    with _sched._sched_lock:
        _sched._blocking_calls += 1
        if _sched._blocking_calls == BOOST_CALLS:
            _boost_switch_interval_locked(True)
    h = _events.hooks[_events.BLOCKING]
    if h is not None:  # before the helper can start it
        h(_events.BLOCKING, g, fn)
    try:
        _submit(job)
    except BaseException:
        _call_done()
        h = _events.hooks[_events.BLOCKING_DONE]
        if h is not None:
            h(_events.BLOCKING_DONE, g, fn)
        raise
    try:
        _proc.park(WAIT_SYSCALL, token)
    except BaseException:
        # Interrupted (run() killing goroutines, a panic or SIGINT for
        # goroutine 1): a call no helper has taken yet is dropped.
        with _pool_lock:
            try:
                _pool_jobs.remove(job)
                dropped = True
            except ValueError:
                dropped = False
        if dropped:
            _call_done()
        raise
    value = w.value
    w.value = None
    h = _events.hooks[_events.BLOCKING_DONE]
    if h is not None:
        h(_events.BLOCKING_DONE, g, fn)
    if w.ok:
        return value  # type: ignore[no-any-return]
    try:
        raise value
    finally:
        del value


def _submit(job: _Job) -> None:
    """Hand job to an idle helper, a new one, or the queue (at the limit)."""
    global _pool_threads
    with _pool_lock:
        if _hand_to_idle_locked(job):
            return
        if _pool_threads >= MAX_HELPER_THREADS:
            _pool_jobs.append(job)
            return
        _pool_threads += 1
    try:
        _spawn(job)
    except BaseException:  # the OS refused a thread: fall back on the others
        with _pool_lock:
            _pool_threads -= 1
            if _hand_to_idle_locked(job):
                return
            if _pool_threads > 0:
                _pool_jobs.append(job)
                return
        raise


def _hand_to_idle_locked(job: _Job) -> bool:
    if not _pool_idle:
        return False
    h = _pool_idle.popitem()[0]
    h.job = job
    h.lock.release()
    return True


def _spawn(job: _Job) -> None:
    with _spawn_lock:
        try:
            old = threading.stack_size()
            if old == 0:
                threading.stack_size(HELPER_STACK_SIZE)
        except (ValueError, RuntimeError):  # not settable on this platform
            old = -1
        try:
            start_new_thread(_helper, (job,))
        finally:
            if old == 0:
                threading.stack_size(0)


def _helper(job: _Job | None) -> None:
    """Body of a helper thread: run calls until idle for HELPER_IDLE_SECONDS,
    or until handed no call (retire_idle_helpers)."""
    global _pool_threads
    _sched.tls.helper = True
    _sched.block_async_signals()
    me = _Helper()
    while True:
        if job is None:
            with _pool_lock:
                _pool_threads -= 1
            return
        w, value, ok = _run_call(job)
        # Take the next call or go idle *before* waking the caller, so the
        # caller's next blocking() finds this thread idle instead of starting
        # another one.
        with _pool_lock:
            job = _pool_jobs.popleft() if _pool_jobs else None
            if job is None:
                _pool_idle[me] = None
        _deliver(w, value, ok)
        del w, value
        if job is not None:
            continue
        # Jittered, so a burst of helpers does not retire (and want the GIL) at once.
        if not me.lock.acquire(True, HELPER_IDLE_SECONDS * (1.0 + _random())):
            with _pool_lock:
                if me in _pool_idle:
                    del _pool_idle[me]
                    _pool_threads -= 1
                    return
            me.lock.acquire()  # handed a call just as the wait timed out
        job = me.job
        me.job = None


def retire_idle_helpers() -> None:
    """Make every idle helper thread exit now (tests; trimming after a burst)."""
    with _pool_lock:
        while _pool_idle:
            h = _pool_idle.popitem()[0]
            h.job = None
            h.lock.release()


def _run_call(job: _Job) -> tuple[GWaiter, Any, bool]:
    """Run a call: its waiter, and its result or exception with an ok flag."""
    w, fn, args, kwargs, ctx = job
    del job
    h = _events.hooks[_events.BLOCKING_RUN]
    if h is not None:
        h(_events.BLOCKING_RUN, w.g, fn)
    try:
        return w, ctx.run(fn, *args, **kwargs), True
    except BaseException as e:
        return w, e, False
    finally:
        h = _events.hooks[_events.BLOCKING_RUN_DONE]
        if h is not None:
            h(_events.BLOCKING_RUN_DONE, w.g, fn)


def _deliver(w: GWaiter, value: Any, ok: bool) -> None:
    """Hand a call's outcome to its goroutine (unless its park was ended
    otherwise: run() killing it, a panic for goroutine 1)."""
    if w.token.acquire(False):
        w.value = value
        w.ok = ok
        w.wake()
    _call_done()


def _call_done() -> None:
    """A blocking() call ended (or was dropped). When it was the last one,
    idle Ps re-check for a deadlock: they counted it as a possible waker."""
    with _sched._sched_lock:
        _sched._blocking_calls -= 1
        calls = _sched._blocking_calls
        if calls == BOOST_CALLS // 4 and _saved_interval is not None:
            _boost_switch_interval_locked(False)
        idle = [p for p in _sched._all_ps if p.idle] if calls == 0 else []
    for p in idle:
        p.wakeup()


def _boost_switch_interval_locked(on: bool) -> None:
    """Raise the GIL switch interval while BOOST_CALLS calls are in flight,
    and give the program its own value back afterwards (unless it changed it
    meanwhile). Holds sched._sched_lock. See the module's header."""
    global _saved_interval, _boosted_interval
    if on:
        current = sys.getswitchinterval()
        if _saved_interval is None and current < BOOST_INTERVAL:
            _saved_interval = current
            sys.setswitchinterval(BOOST_INTERVAL)
            _boosted_interval = sys.getswitchinterval()
    elif _saved_interval is not None:
        if sys.getswitchinterval() == _boosted_interval:
            sys.setswitchinterval(_saved_interval)
        _saved_interval = None


def _after_fork_child() -> None:
    """The child has no helper threads: start the pool afresh."""
    global _pool_lock, _spawn_lock, _pool_threads
    _pool_lock = threading.Lock()
    _spawn_lock = threading.Lock()
    _pool_jobs.clear()
    _pool_idle.clear()
    _pool_threads = 0
    if _saved_interval is not None:
        _boost_switch_interval_locked(False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_child)
