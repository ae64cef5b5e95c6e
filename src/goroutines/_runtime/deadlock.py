"""Deadlock detection: "all goroutines are asleep", and foreign threads
parked in the runtime.

Deadlock (all goroutines are asleep) is decided under _sched_lock from the
states of every P and every foreign thread (_detect_deadlock_locked), by a P
about to sleep (proc._idle), by a foreign thread about to park (park_thread)
and when the main module ends (_on_main_end); it is reported to goroutine 1,
or to a thread parked in the runtime, as a Deadlock carrying the dump.

Invariants: a thread registered in sched._parked_threads is blocked on its
waiter's lock or about to be; the detector reads other Ps' lock-free fields
and tokens only under _sched_lock, and delivers (wins a token, readies) only
after releasing it.
"""

from __future__ import annotations

import os
import threading
import weakref
from time import monotonic

from . import sched as _sched
from . import waiter as _waiter
from .dump import dump
from .errors import Deadlock
from .g import WAITING, G
from .panic import _exit_with_pending_panic, _held_for_main_thread
from .sched import note_foreign
from .waiter import ThreadWaiter

_deadlock_detection = os.environ.get("GOROUTINES_DEADLOCK", "1") != "0"


def park_thread(w: ThreadWaiter, reason: str) -> None:
    """Block a foreign thread on its waiter's lock (deadlock-aware)."""
    ident = w.thread
    w.reason = reason
    note_foreign()
    with _sched._sched_lock:
        _sched._parked_threads[ident] = w
        victim = _detect_deadlock_locked() if _deadlock_detection else None
    if victim is not None:
        _deliver_deadlock(victim)
    elif any(p.idle for p in _sched._all_ps):
        # An idle P may have counted this thread as a possible waker.
        for p in list(_sched._all_ps):
            if p.idle:
                p.wakeup()
    try:
        w.lock.acquire()
    finally:
        with _sched._sched_lock:
            _sched._parked_threads.pop(ident, None)
    exc = w.exc
    if exc is not None:
        w.exc = None
        raise exc


def detect_before_idle_locked() -> tuple[G | ThreadWaiter | None, bool]:
    """For a P about to sleep, holding _sched_lock: whom to tell 'all
    goroutines are asleep' (or None), and whether to look again within
    FOREIGN_POLL. A thread ending (or a daemon thread's grace running out)
    tells no P, so the P looks again while a thread may still act and there
    is somebody a deadlock would be reported to (goroutine 1 or a thread
    parked in the runtime); a new one runs the detector itself when it parks.

    One reading of the clock for both answers: with two, a daemon thread's
    grace could end between them - the detector counted it as a possible
    waker, the second look no more - and the P slept with no timeout and the
    deadlock unreported (once in ~400 runs on a loaded machine)."""
    now = monotonic()
    victim = _detect_deadlock_locked(now)
    if victim is not None:
        return victim, False
    g1 = _sched._main_g
    again = bool(_sched._parked_threads or (g1 is not None and g1.state == WAITING)) and bool(
        _sched._foreign_threads or _unattached_thread_alive_locked(now=now)
    )
    return None, again


def _detect_deadlock_locked(now: float | None = None) -> G | ThreadWaiter | None:
    """Whom to tell 'all goroutines are asleep', or None. Holds _sched_lock.

    Possible wakers (docs/api.md#deadlock-and-possible-wakers): a runnable goroutine, a timer in a heap, an fd
    being waited on, a blocking() call queued or in flight, a foreign thread
    that is alive and not parked in the runtime, and a thread that has not
    used the runtime yet, the main thread included (see
    _unattached_thread_alive_locked: ``Thread(target=produce).start()`` then
    ``ch.recv()``: the thread may not have run at all when main parks).
    A panic or SIGINT pending for goroutine 1 wakes it too (its P was woken).
    """
    if _sched._blocking_calls:
        return None
    # A panic or SIGINT pending for goroutine 1 wakes it. One held for a main
    # thread that has not used the runtime yet wakes nobody until it does:
    # if everything else is asleep, the main thread does not count, and the
    # panic ends the program (_deliver_deadlock): a thread parked here may
    # wait for the goroutine that panicked while the main thread waits for it.
    held = _sched.attention and _held_for_main_thread()
    if _sched.attention and not held:
        return None
    # Threads first, then what they leave behind. _sched_lock keeps every P
    # that is idle idle, and keeps parked threads parked, but a thread that
    # is still running can act between any two of the lines below: ready a
    # goroutine (an inbound append, no lock), win a parked thread's token,
    # start a thread, and then end. Had the queues been looked at first, such
    # a thread would be seen empty-handed and then dead: a false Deadlock
    # (seen under load as goroutine 2 "[runnable]" in the dump). In this
    # order, a thread seen running means no deadlock; one seen dead or parked
    # acted, if at all, before it was seen, so the queues (looked at after)
    # hold what it readied, the second look at the parked threads' tokens
    # sees whom it woke, and the second look for new threads sees those it
    # started. Nothing else acts: an idle P runs nothing, a parked thread
    # needs a waker, and blocking() calls and going idle take _sched_lock.
    for ident, th in list(_sched._foreign_threads.items()):
        if not th.is_alive():
            del _sched._foreign_threads[ident]
            continue
        w = _sched._parked_threads.get(ident)
        if w is None or w.token.locked():
            return None
    if now is None:
        now = monotonic()
    if _unattached_thread_alive_locked(count_main=not held, now=now):
        return None
    for p in _sched._all_ps:
        if _sched._main_ended and p.ident == _sched._main_ident:
            continue  # its goroutines never run again (abandoned at exit)
        if (
            not p.idle
            or p.inbound
            or p.runq
            or p.timerq
            or p.runnext is not None
            or p.ntimers
            or p.nio
        ):
            return None
    for w in _sched._parked_threads.values():
        if w.token.locked():
            return None  # woken by a thread that has ended since
    if (_sched.attention and not held) or _unattached_thread_alive_locked(
        count_main=not held, now=now
    ):
        return None
    g1 = _sched._main_g
    if _sched._main_ended:
        return _non_daemon_victim_locked(g1)
    if g1 is not None and g1.state == WAITING:
        return g1
    main_ident = threading.main_thread().ident
    victim = _sched._parked_threads.get(main_ident) if main_ident is not None else None
    if victim is None and _sched._parked_threads:
        victim = next(iter(_sched._parked_threads.values()))
    return victim


def _non_daemon_victim_locked(g1: G | None) -> G | ThreadWaiter | None:
    """Once the main module has ended, only a thread the interpreter will
    wait for is told of a deadlock: a daemon thread parked in the runtime is
    abandoned with the process, as a goroutine is, without a traceback."""
    daemon = {th.ident: th.daemon for th in threading.enumerate()}
    if g1 is not None and g1.state == WAITING and g1.p is not None:
        if daemon.get(g1.p.ident) is False:
            return g1
    for ident, w in _sched._parked_threads.items():
        if daemon.get(ident) is False:
            return w
    return None


def _unattached_thread_alive_locked(count_main: bool = True, now: float | None = None) -> bool:
    """A threading.Thread that has not used the runtime yet (neither a P's
    thread nor registered as foreign) may still act. Holds _sched_lock.

    Dummy threads (made by _thread, like the blocking() helpers, which show
    up once they call current_thread()) count only once registered.

    Such a thread has not used the runtime yet, so the rule for foreign threads
    (docs/api.md#deadlock-and-possible-wakers) alone
    would not count it; but a thread just started to send on a channel has
    often not reached its send when goroutine 1 parks, and calling that a
    deadlock would be a false alarm. So a non-daemon thread counts while it is
    alive (it keeps the process alive too), a daemon thread for its first
    NEW_THREAD_GRACE seconds: a daemon thread parked forever in unrelated code
    never hides a deadlock for longer than that.

    The main thread is such a non-daemon thread until it first uses the
    runtime (docs/api.md#deadlock-and-possible-wakers:
    ``Thread(target=lambda: ch.send(42)).start()`` then ``ch.recv()`` on the
    main thread; the thread may reach its send first).
    Threads alive when goroutines was imported follow the same rule, their
    age counted from the import: a thread started before the import to send
    later is as much a waker as one started after it. (They used to count
    only once they used the runtime, a false Deadlock for that thread.)
    """
    if now is None:
        now = monotonic()
    for th in threading.enumerate():
        if th.ident in _sched._foreign_threads or not th.is_alive():
            continue  # (the main thread stays listed, stopped, at exit)
        if (_sched._main_ended or not count_main) and th.ident == _sched._main_ident:
            continue
        if isinstance(th, threading._DummyThread) or th.name.startswith("goroutines-"):
            continue
        if any(p.ident == th.ident for p in _sched._all_ps):
            continue
        if not th.daemon:
            return True
        first = _thread_seen.setdefault(th, now)
        if now - first < NEW_THREAD_GRACE:
            return True
    return False


NEW_THREAD_GRACE = 1.0


# daemon thread -> when first seen (threads alive at import: the import).
# Keyed by the Thread, not its ident: idents are reused at once, and a new
# thread must not inherit a dead one's age.
_thread_seen: weakref.WeakKeyDictionary[threading.Thread, float] = weakref.WeakKeyDictionary(
    dict.fromkeys(threading.enumerate(), monotonic())
)


def _on_main_end() -> None:
    """threading's exit hook, run when the main module ends, before the
    interpreter joins the non-daemon threads: a thread parked forever in the
    runtime would keep it waiting forever, with nobody left to tell it."""
    if _sched._pending_panic is not None:
        # Goroutine 1 (or the main thread, goroutine 1 to be) never met it:
        # the program ends here, as Go's would have at the panic, rather
        # than after the non-daemon threads (which may wait for the
        # goroutine that panicked).
        _exit_with_pending_panic()
    with _sched._sched_lock:
        _sched._main_ended = True
        victim = _detect_deadlock_locked() if _deadlock_detection else None
        idle = [p for p in _sched._all_ps if p.idle]
    if victim is not None:
        _deliver_deadlock(victim)
    for p in idle:
        p.wakeup()  # to look again, now without the main thread


def _deliver_deadlock(victim: G | ThreadWaiter) -> None:
    if _held_for_main_thread():
        _exit_with_pending_panic()  # see _detect_deadlock_locked

    text = "all goroutines are asleep - deadlock!\n\n" + dump(
        first=victim if isinstance(victim, G) else None
    )
    if isinstance(victim, G):
        tok = victim.token
        if tok is not None and tok.acquire(False):
            victim.throw_exc = Deadlock(text)
            _waiter.ready(victim)
    elif victim.token.acquire(False):
        victim.exc = Deadlock(text)
        victim.wake()


# Private, but what concurrent.futures uses for the same moment (3.9+).
_register_threading_atexit = getattr(threading, "_register_atexit", None)
if _register_threading_atexit is not None:
    _register_threading_atexit(_on_main_end)
