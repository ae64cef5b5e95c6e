"""The scheduler: P, park/ready, go(), run(), deadlock detection, panics, signals.

A P (processor) is the scheduler of one OS thread. The main thread's own code is
goroutine 1 and its P runs the other goroutines whenever goroutine 1 parks. A
background thread with a P of its own is started lazily for goroutines created
by foreign threads (plain threads, asyncio loops). Every other thread is
foreign: its blocking calls block it as a thread (ThreadWaiter).

Why no hub greenlet: the greenlet that parks picks the next G itself and
switches straight to it (Go's schedule() runs on the parking M too). A hub
would add a second switch to every hand-off; direct switching keeps a
ping-pong at two switches per round trip.

Why worker greenlets: a G gets a greenlet only when it first runs, and the
greenlet of a finished G runs the next unstarted G in place, with no switch
at all; a free worker waits in ``p.free_workers`` otherwise. A fresh greenlet
costs an allocation of its frame-stack chunk; reuse makes ``go()`` + finish a
few microseconds (Go reuses its G structs for the same reason). New worker
greenlets are started by the P's g0 greenlet, never from a parked goroutine's
stack: a greenlet inherits the interpreter's recursion depth of the greenlet
that first switches into it, and chains of parked goroutines would add up.

Run order: runnext (the G the running one just readied, as Go's runnext; after
RUNNEXT_STREAK hand-offs in a row the run queue goes first), then p.timerq
(sleepers whose timer fired; every 8th pick the run queue goes first), then
the FIFO run queue. Timers are checked every TIMER_CHECK_MASK+1 schedules
while busy, and by the idle wait.

The blocking() helper pool lives in blocking.py; the netpoller and
panic/signal delivery are the next parts to move out of this module.

Invariants (for a P, touched only by its own thread except where noted):
  * p.runnext, p.timerq, p.runq hold RUNNABLE Gs of this P; p.curg is RUNNING.
  * p.inbound is the only structure other threads touch: they append Gs they
    readied (after winning the G's park token), then write p's wakeup fd if
    p.sleeping. p sets sleeping *before* its last look at inbound and at the
    timers, so a wake-up is never lost.
  * p.idle is written under _sched_lock; it is True only while p sleeps in
    its selector with nothing runnable.
  * A started G never leaves its P (greenlets cannot cross threads).
Deadlock (all goroutines are asleep) is decided under _sched_lock from the
states of every P and every foreign thread: see _detect_deadlock_locked.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import selectors
import signal
import sys
import sysconfig
import threading
import time
import traceback
import weakref
from _thread import allocate_lock, get_ident
from collections import deque
from collections.abc import Callable
from time import monotonic
from time import sleep as _os_sleep
from types import CoroutineType, FrameType
from typing import Any, NoReturn, TypeVar

from greenlet import GreenletExit, getcurrent, greenlet

from ..errors import Deadlock, GoroutinePanic, throw
from . import accel, clock, timers
from . import dump as _dump_mod
from . import g as _gmod
from . import waiter as _waiter_mod
from .accel import speedups
from .g import DEAD, RUNNABLE, RUNNING, WAITING, G, KwCall, allgs, next_id
from .waiter import GWaiter, ThreadWaiter, Waiter, foreign_waiter, install, new_lock, new_token

T = TypeVar("T")

_copy_context = contextvars.copy_context
_new_object = object.__new__
_getframe = sys._getframe
_modules = sys.modules

MAX_FREE_WORKERS = 1024  # idle worker greenlets kept per P
RUNNEXT_STREAK = 64  # runnext hand-offs in a row before the run queue goes first
TIMER_CHECK_MASK = 31  # look at the timer heap every 32 schedules while busy
FOREIGN_POLL = 0.05  # idle P re-checks foreign threads' liveness this often
# The longest idle wait. Timers may lie far beyond what the OS can wait for
# (epoll: 2**31 - 1 ms, ~24.8 days; a sleep(float("inf")) never fires): the
# P wakes once a day and waits again. Go's durations reach 290 years.
MAX_POLL = 86400.0


class _TLS(threading.local):
    p: P | None = None
    foreign: bool = False
    run_loop: Any = None  # the asyncio loop run() was called from (see go)
    helper: bool = False  # a blocking() helper thread


_tls = _TLS()


def _set_p(p: P | None) -> None:
    """Bind p to this thread (None: unbind): _tls.p, and the accelerator's copy."""
    _tls.p = p
    if speedups is not None:
        speedups.set_p(p)

# _sched_lock protects: every P's .idle, _all_ps, _foreign_threads,
# _parked_threads, _blocking_calls.
_sched_lock = threading.Lock()
_all_ps: list[P] = []
_foreign_threads: dict[int, threading.Thread] = {}
_parked_threads: dict[int, ThreadWaiter] = {}
_blocking_calls = 0
_bg_p: P | None = None
_bg_lock = threading.Lock()  # guards starting the background P

_main_g: G | None = None  # goroutine 1

# attention: something waits to be delivered to goroutine 1 (a panic, a
# SIGINT). Checked by every public entry point with one global load. Set it
# with _set_attention.
attention = False


def _set_attention(value: bool) -> None:
    """attention = value: the only way attention is written.

    Invariant: attention is True whenever a panic or a SIGINT is pending.
    Every producer records its exception (_pending_panic, _sigint_pending)
    and only then calls _set_attention(True). Lowering re-reads both after
    storing False, so a producer that ran in between - another thread, or a
    signal handler, which CPython may run between any two bytecodes, also
    between the evaluation of a caller's argument and this call's first
    line - is never overwritten: either its record is seen here and True is
    stored again, or its own _set_attention(True) comes after our store.
    On the accelerated path the store is speedups.set_attention, which writes
    attention and the accelerator's hint of it in one C call (see
    is_attention in _speedups.c for why they must not be two steps).
    """
    global attention
    if speedups is not None:
        speedups.set_attention(value)
    else:
        attention = value
    if not value and (_sigint_pending or _pending_panic is not None):
        _set_attention(True)

_pending_panic: BaseException | None = None
_panic_in_flight = False  # a panic was raised and not yet delivered/reported
_sigint_pending = False

_deadlock_detection = os.environ.get("GOROUTINES_DEADLOCK", "1") != "0"


class P:
    """A processor: the scheduler state of one OS thread."""

    __slots__ = (
        "curg",
        "free_workers",
        "g0",
        "g1",
        "home",
        "ident",
        "idle",
        "in_run",
        "inbound",
        "io_waiters",
        "killing",
        "nio",
        "ntimers",
        "runnext",
        "runq",
        "saved_sigint",
        "saved_sigquit",
        "schedtick",
        "selector",
        "sleeping",
        "streak",
        "timer_lock",
        "timerq",
        "timers",
        "wake_r",
        "wake_w",
    )

    def __init__(self) -> None:
        self.ident = get_ident()
        self.runnext: G | None = None
        self.runq: deque[G] = deque()
        self.inbound: deque[G] = deque()
        self.timers: list[Any] = []
        self.timer_lock = new_lock()  # guards timers, ntimers
        self.ntimers = 0
        # Gs woken by their timers (sleep): served before the run queue, but
        # every 8th pick goes to the run queue, so neither can starve the
        # other. Behind thousands of goroutines not yet started, a sleeper's
        # wake-up would otherwise be late by the whole queue.
        self.timerq: deque[G] = deque()
        # The running G. None only on the background P before its first G.
        self.curg: G = None  # type: ignore[assignment]
        self.g1: G | None = None
        self.home: Any = None  # greenlet that parents this P's workers
        self.g0: Any = None  # greenlet that starts new workers (see _switch_to)
        self.free_workers: list[Any] = []
        self.schedtick = 0
        self.streak = 0
        self.sleeping = False
        self.idle = False
        self.killing = False
        self.in_run = False
        self.nio = 0  # goroutines parked in wait_readable/wait_writable
        self.io_waiters: dict[int, list[Any]] = {}
        self.saved_sigint: Any = None
        self.saved_sigquit: Any = None
        self._open_poller()

    def _open_poller(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.selector.register(self.wake_r, selectors.EVENT_READ, None)

    def wakeup(self) -> None:
        """Make p's idle wait return (any thread, signal handlers included)."""
        try:
            os.write(self.wake_w, b"\0")
        except (BlockingIOError, OSError):
            pass  # pipe full: a wake-up is already pending

    def timers_changed(self) -> None:
        if self.sleeping and self.ident != get_ident():
            self.wakeup()


# ---------------------------------------------------------------------------
# Attaching threads


# The main thread's ident while it is foreign only because it first used the
# runtime from a running asyncio loop, else 0. Once no loop runs there (after
# asyncio.run() returned), its next use makes it goroutine 1, as a first use
# would have.
_loop_main = 0


def getp() -> P | None:
    """This thread's P; on first use by the main thread (or its first use
    after the asyncio loop that made it foreign stopped), make it goroutine 1.

    Returns None on a foreign thread (and registers it as one).
    """
    p = _tls.p
    if p is not None:
        return p
    if _tls.foreign:
        if _loop_main and _loop_main == get_ident() and not _asyncio_running():
            return _attach()
        return None
    return _attach()


def _asyncio_running() -> bool:
    aio = sys.modules.get("asyncio")
    return aio is not None and aio.events._get_running_loop() is not None


def _bind_running_loop() -> Any:
    """Bind _get_running_loop to asyncio's (called once asyncio is imported)."""
    global _get_running_loop
    _get_running_loop = _modules["asyncio.events"]._get_running_loop
    return _get_running_loop()


# asyncio's _get_running_loop; call it only when "asyncio.events" is imported.
_get_running_loop: Callable[[], Any] = _bind_running_loop


def _running_loop() -> Any:
    """The asyncio loop running on this thread, or None."""
    return _get_running_loop() if "asyncio.events" in _modules else None


def _attach() -> P | None:
    global _loop_main
    if threading.current_thread() is threading.main_thread():
        if not _asyncio_running():
            _loop_main = 0
            return _make_main_p(gid=1)
        _loop_main = get_ident()
        _register_foreign()
        if _held_for_main_thread():
            # A panic held for the main thread, which turns out foreign:
            # there is no goroutine 1 to meet it (see _panic).
            _exit_with_pending_panic()
        return None
    _register_foreign()
    return None


def _register_foreign() -> None:
    _tls.foreign = True
    if _tls.helper:
        # A blocking() helper is a possible waker only while it runs a call,
        # and _blocking_calls counts that; idle in the pool it wakes nobody
        # (and, made by _thread, it would look alive forever).
        return
    ident = get_ident()
    with _sched_lock:
        _foreign_threads[ident] = threading.current_thread()


def note_foreign() -> None:
    """A foreign thread uses the runtime: count it as a possible waker."""
    if not _tls.foreign:
        _register_foreign()


def note_use() -> None:
    """A thread without a P used the runtime in a way that does not block
    (a send into a buffer, an unlock, a cancel...): count it as a possible
    waker from now on, as a thread that blocked in the runtime is
    (docs/api.md#deadlock-and-possible-wakers: a thread counts once it uses
    the runtime). Without this a daemon thread whose use never blocks counted
    only for its first NEW_THREAD_GRACE seconds, and the goroutine it would
    wake next got a false Deadlock.

    Callers test ``_tls.p is None and not _tls.foreign`` first (the P they
    read anyway, or one thread-local load), so a goroutine's operation and a
    registered thread's pay nothing more; the accelerator's ports call this
    for every caller without a P. The main thread is left as it is: until its
    first blocking call makes it goroutine 1 it counts while alive (a
    non-daemon thread that has not used the runtime), and registering it as
    foreign would keep it from becoming goroutine 1.
    """
    if _tls.p is None and not _tls.foreign and get_ident() != threading.main_thread().ident:
        _register_foreign()


def _make_main_p(gid: int) -> P:
    global _main_g
    p = P()
    g1 = G(gid, None, (), p)
    g1.name = "main"
    g1.state = RUNNING
    g1.greenlet = getcurrent()
    p.g1 = g1
    p.curg = g1
    p.home = g1.greenlet
    _start_g0(p)
    _set_p(p)
    _tls.foreign = False
    allgs[g1.id] = g1
    with _sched_lock:
        _all_ps.append(p)
        # A thread that was foreign (an asyncio loop ran on it) and now hosts
        # run()'s P is a P now: as a foreign thread it would stay a "possible
        # waker" forever and hide every later deadlock.
        _foreign_threads.pop(get_ident(), None)
    if _main_g is None or _main_g.state == DEAD:
        _main_g = g1
    if threading.current_thread() is threading.main_thread():
        _install_signal_handlers(p)
    return p


def _detach_p(p: P) -> None:
    """Forget a P made by run() on a non-main thread."""
    global _main_g
    with _sched_lock:
        if p in _all_ps:
            _all_ps.remove(p)
    if p.g1 is not None:
        p.g1.state = DEAD
        allgs.pop(p.g1.id, None)
        if _main_g is p.g1:
            _main_g = None
    _set_p(None)
    p.selector.close()
    os.close(p.wake_r)
    os.close(p.wake_w)


def background_p() -> P:
    """The P of the background scheduler thread, started on first use."""
    global _bg_p
    p = _bg_p
    if p is not None:
        return p
    with _bg_lock:
        if _bg_p is None:
            started = threading.Event()
            box: list[P] = []

            def main() -> None:
                bp = P()
                bp.home = getcurrent()
                _start_g0(bp)
                _set_p(bp)
                box.append(bp)
                with _sched_lock:
                    _all_ps.append(bp)
                started.set()
                while True:
                    nxt = _find_runnable(bp)
                    _switch_to(bp, nxt)

            t = threading.Thread(target=main, name="goroutines-scheduler", daemon=True)
            t.start()
            started.wait()
            _bg_p = box[0]
        return _bg_p


# ---------------------------------------------------------------------------
# go, ready, park


def go(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], depth: int) -> G:
    p = _tls.p
    if p is None:
        p = getp()
    elif "asyncio.events" in _modules:
        # A thread running an asyncio loop is foreign for go() even when it has
        # a P (goroutine 1's thread): the loop runs inside one goroutine of the
        # P, whose other goroutines would run only when that one parks. The
        # loop run() was called from (Jupyter's) does not count: run() blocks
        # it until it returns, and its goroutines are run's own.
        loop = _get_running_loop()
        if loop is not None and loop is not _tls.run_loop:
            p = None
    if attention and p is not None:
        check_attention()
    # The goroutine runs in a copy of the caller's context. An empty one
    # (None: no ContextVar was ever set here) needs no copy: the goroutine
    # starts with none, and the interpreter makes an empty one if fn sets a
    # ContextVar. A Context is one more object for the garbage collector to
    # visit for as long as the goroutine lives.
    context = getcurrent().gr_context
    if context:
        context = _copy_context()
    else:
        context = None
    f = _getframe(depth)
    # G.__init__'s work without calling it: calling a class with an __init__
    # costs a C-level call, and this runs once per goroutine.
    g = _new_object(G)
    g.id = next(_gmod._ids)
    g.fn = fn
    g.args = KwCall((args, kwargs)) if kwargs else args
    g.p = p
    g.state = RUNNABLE
    g.wait_reason = ""
    g.greenlet = None
    g.context = context
    g.token = None
    g.throw_exc = None
    cur = p.curg if p is not None else None
    g.parent_id = cur.id if cur is not None else 0
    g.created_code = f.f_code
    g.created_lasti = f.f_lasti
    g.waiter = None
    allgs[g.id] = g
    bp = None
    try:
        if p is not None:
            p.runq.append(g)
        else:
            bp = background_p()
            g.p = bp
            bp.inbound.append(g)
    except BaseException:
        # Not queued, so it never runs: no goroutine was started.
        allgs.pop(g.id, None)
        raise
    if bp is not None and bp.sleeping:
        try:
            bp.wakeup()
        except BaseException as e:
            raise throw(f"newproc: goroutine {g.id} could not be made runnable") from e
    return g


def ready_from_timer(g: G) -> None:
    """ready() for a G whose timer fired in timers.run_due on g's own P."""
    p = g.p
    if p is None:
        raise throw(f"ready: goroutine {g.id} has no P")
    if p.ident == get_ident():
        try:
            p.timerq.append(g)
        except BaseException as e:
            raise throw(f"ready: goroutine {g.id} could not be made runnable") from e
        g.state = RUNNABLE
    else:
        ready(g)


def ready(g: G) -> None:
    """Make a parked g runnable. The caller has won g's park token.

    Go's goready cannot fail, and this must not fail quietly: the token is
    won, so nobody else will ever ready g. A failing step (a queue append,
    the wake-up) raises RuntimeFault - g is lost, a broken runtime - with the
    original error as its __cause__, never an error a caller could take for
    its own. The order loses nothing else: on this thread the old runnext is
    appended first (it stays runnext if that fails); for another thread's P,
    g is runnable before that thread can find it in inbound.
    """
    p = g.p
    if p is None:
        raise throw(f"ready: goroutine {g.id} has no P")
    try:
        if p.ident == get_ident():
            # Only this thread touches runnext and runq: the append that
            # can fail goes first.
            old = p.runnext
            if old is not None:
                p.runq.append(old)
            g.state = RUNNABLE
            p.runnext = g
        else:
            g.state = RUNNABLE  # before another thread can take it from inbound
            p.inbound.append(g)
            if p.sleeping:
                p.wakeup()
    except BaseException as e:
        raise throw(f"ready: goroutine {g.id} could not be made runnable") from e


def park(reason: str, token: Any) -> None:
    """Block the current goroutine until its park token is won and it is readied.

    Raises what a waker delivered instead of a result (a panic or SIGINT for
    goroutine 1, Deadlock, GreenletExit when run() kills goroutines).
    """
    p = _tls.p
    assert p is not None
    g = p.curg
    assert g is not None
    park_g(p, g, reason, token)


def park_g(p: P, g: G, reason: str, token: Any) -> None:
    """park() for a caller that already knows its P and G (p.curg is g)."""
    if p.killing and not g.is_main:
        raise GreenletExit
    g.state = WAITING
    g.wait_reason = reason
    g.token = token
    # Fast path of _find_runnable: hand the P to runnext (the G this one just
    # readied) unless it is time to look at timers, other threads or fairness.
    nxt = p.runnext
    tick = p.schedtick + 1
    if (
        nxt is not None
        and tick & TIMER_CHECK_MASK
        and (p.streak < RUNNEXT_STREAK or not p.runq)
        and not attention
        and not p.inbound
    ):
        p.schedtick = tick
        p.runnext = None
        p.streak += 1
    else:
        try:
            nxt = _find_runnable(p)
        except BaseException:
            g.state = RUNNING  # it did not park: the caller takes its waiter back
            raise
    if nxt is g:
        g.state = RUNNING
        p.curg = g
    else:
        p.curg = nxt
        nxt.state = RUNNING
        gr = nxt.greenlet
        if gr is not None:
            gr.switch()
        else:
            _switch_to(p, nxt)
    exc = g.throw_exc
    if exc is not None:
        g.throw_exc = None
        raise exc


def current_waiter(token: Any) -> Waiter:
    """A Waiter for the caller: its goroutine; if foreign, the asyncio task
    whose operation runs in this greenlet (see _aio.py), else its thread."""
    p = _tls.p
    if p is None:
        p = getp()
        if p is None:
            return foreign_waiter(token)
    g = p.curg
    assert g is not None
    return GWaiter(g, token)


def _switch_to(p: P, nxt: G) -> None:
    """Give p to nxt (not the current G). Returns when the caller is resumed."""
    p.curg = nxt
    nxt.state = RUNNING
    gr = nxt.greenlet
    if gr is None:
        # The greenlet that starts nxt finds it in p.curg. Passed as a switch
        # argument, nxt would travel in a tuple that the C stack of this
        # greenlet (or the new worker's start) keeps alive: a tracked object
        # more per parked goroutine.
        if p.free_workers:
            gr = p.free_workers.pop()
            nxt.greenlet = gr
            gr.switch()
        else:
            # A new greenlet inherits the interpreter's recursion depth of the
            # greenlet that first switches into it; started from a parked
            # goroutine's stack, depths would add up (10,000 sleeping
            # goroutines -> RecursionError). p.g0 starts them all from its
            # own shallow stack.
            p.g0.switch()
    else:
        gr.switch()


def _g0_main(p: P) -> None:
    """Body of a P's g0 greenlet: start a worker greenlet for each G handed over
    (p.curg)."""
    home = getcurrent().parent
    home.switch()  # back to the P's creator; wait for work
    while True:
        gr = greenlet(_worker, home)
        p.curg.greenlet = gr
        gr.switch()


def _start_g0(p: P) -> None:
    """Create and start p's g0 from the current (shallow) greenlet, p.home."""
    p.g0 = greenlet(_g0_main, p.home)
    p.g0.switch(p)


def _worker() -> None:
    """Body of a worker greenlet: run p.curg, then every unstarted G that comes
    next."""
    gr = getcurrent()
    p = _tls.p
    assert p is not None
    g = p.curg
    runq = p.runq
    while True:
        # Run g in its context. Setting the greenlet's context is what
        # Context.run would do (nobody else runs in g.context). Neither
        # g.context.run(fn, ...) nor fn(*args) is used: each C call that calls
        # back into Python starts another C-level interpreter loop, ~500 bytes
        # of C stack that greenlet copies out for every parked goroutine. A
        # call with a fixed number of positional arguments runs a Python fn in
        # this loop (CPython >= 3.11), and is faster too. Go: goexit0 is the
        # finally block.
        gr.gr_context = g.context
        fn: Any = g.fn
        args: Any = g.args
        try:
            n = len(args)
            if args.__class__ is KwCall:
                r = fn(*args[0], **args[1])
            elif n == 0:
                r = fn()
            elif n == 1:
                r = fn(args[0])
            elif n == 2:
                r = fn(args[0], args[1])
            elif n == 3:
                r = fn(args[0], args[1], args[2])
            elif n == 4:
                r = fn(args[0], args[1], args[2], args[3])
            else:
                r = fn(*args)
            if r is not None and r.__class__ is CoroutineType:
                raise coroutine_returned(g.name, r)
        except GreenletExit:
            pass
        except BaseException as e:
            _panic(g, e)
        finally:
            fn = args = r = None  # an idle worker keeps nothing of g alive
            g.state = DEAD
            g.context = None
            g.args = ()
            # A finished G keeps no greenlet: a worker that ends (too many
            # idle ones) names the next G's greenlet its parent, and G
            # handles kept by the program would hold chains of such dead
            # greenlets, freed recursively: ~6,500 deep, that overflowed the
            # C stack of the thread that collected them (a SIGSEGV).
            g.greenlet = None
            allgs.pop(g.id, None)
        if p.killing:
            return
        # Next G: the head of the run queue unless the scheduler has more to do.
        tick = p.schedtick + 1
        if (
            tick & TIMER_CHECK_MASK
            and runq
            and p.runnext is None
            and not p.timerq
            and not attention
            and not p.inbound
        ):
            p.schedtick = tick
            p.streak = 0
            nxt = runq.popleft()
        else:
            nxt = _find_runnable(p)
        p.curg = nxt
        nxt.state = RUNNING
        if nxt.greenlet is None:
            nxt.greenlet = gr
            g = nxt
            continue
        if len(p.free_workers) < MAX_FREE_WORKERS:
            gr.gr_context = None  # let the finished goroutine's context go
            p.free_workers.append(gr)
            nxt.greenlet.switch()
            g = p.curg  # handed over by _switch_to
        else:
            # Too many idle workers: end this greenlet; ending switches to
            # its parent, so make the parent the G that runs next.
            gr.parent = nxt.greenlet
            return


# Stack walks (dump) stop at the bottoms of these greenlets.
_dump_mod.register_roots(_worker.__code__, _g0_main.__code__)


def coroutine_returned(name: str, coro: Any) -> TypeError:
    """The panic of a goroutine whose function returned a coroutine. The
    coroutine never ran: it is closed here, so it warns nobody of that."""
    coro.close()
    return TypeError(
        f"{name} returned a coroutine ({coro.__qualname__}) that nobody "
        "awaits: a goroutine runs a plain function, so the coroutine never "
        "runs; await it in asyncio instead"
    )


def _find_runnable(p: P) -> G:
    """The next G for p; waits (idle) for one. Mirrors runtime/proc.go findRunnable."""
    while True:
        if attention:
            if _exiting:
                _park_if_exiting(p)
            _attend(p)
        tick = p.schedtick = p.schedtick + 1
        if p.inbound:
            _drain_inbound(p)
        if not tick & TIMER_CHECK_MASK:
            if p.timers:
                timers.run_due(p)
            if p.nio:
                _poll(p, 0.0)
        g = p.runnext
        if g is not None:
            if p.streak < RUNNEXT_STREAK or not p.runq:
                p.runnext = None
                p.streak += 1
                return g
        p.streak = 0
        tq = p.timerq
        if tq and (tick & 7 or not p.runq):
            return tq.popleft()
        if p.runq:
            return p.runq.popleft()
        if p.timers and timers.run_due(p):
            continue
        _idle(p)


def _drain_inbound(p: P) -> None:
    inbound = p.inbound
    runq = p.runq
    while inbound:
        runq.append(inbound.popleft())


def _idle(p: P) -> None:
    """Nothing to run: sleep until a timer, an fd, another thread or a signal."""
    if _exiting:
        _park_if_exiting(p)
    p.sleeping = True
    if p.inbound or p.runq or p.timerq or p.runnext is not None:
        p.sleeping = False
        return
    when = timers.next_when(p)
    timeout: float | None = None
    if when is not None:
        timeout = when - clock.read()
        if timeout <= 0:
            p.sleeping = False
            return
    with _sched_lock:
        p.idle = True
        victim = _detect_deadlock_locked() if _deadlock_detection else None
        # A thread ending (or a daemon thread's grace running out) tells no
        # P: look again every FOREIGN_POLL, but only while there is somebody
        # a deadlock would be reported to (goroutine 1 or a thread parked in
        # the runtime); a new one runs the detector itself when it parks.
        if (
            victim is None
            and _deadlock_detection
            and (timeout is None or timeout > FOREIGN_POLL)
            and (_parked_threads or (_main_g is not None and _main_g.state == WAITING))
            and (_foreign_threads or _unattached_thread_alive_locked())
        ):
            timeout = FOREIGN_POLL
    if victim is not None:
        with _sched_lock:
            p.idle = False
        p.sleeping = False
        _deliver_deadlock(victim)
        return
    _poll(p, timeout)
    p.sleeping = False
    with _sched_lock:
        p.idle = False


def _poll(p: P, timeout: float | None) -> None:
    """Wait on p's selector. epoll counts whole milliseconds and rounds up, so a
    wait is cut to whole milliseconds and the rest slept precisely. A wait
    longer than MAX_POLL (forever: None) is cut to MAX_POLL."""
    if timeout is not None and timeout > MAX_POLL:
        timeout = MAX_POLL
    elif timeout is not None and 0 < timeout < 0.001:
        _os_sleep(timeout)
        timeout = 0.0
    elif timeout is not None and timeout > 0:
        timeout = int(timeout * 1000) / 1000
    events = p.selector.select(timeout)
    for key, mask in events:
        if key.fd == p.wake_r:
            try:
                while os.read(p.wake_r, 512):
                    pass
            except (BlockingIOError, OSError):
                pass
        else:
            _io_ready(p, key.fd, mask)


# ---------------------------------------------------------------------------
# Netpoller: goroutines waiting for file descriptors


def wait_fd(fd: int, events: int) -> None:
    """Park the current goroutine until fd is ready for events (selectors mask)."""
    p = getp()
    if p is None:
        import select as _select

        note_foreign()
        r = [fd] if events & selectors.EVENT_READ else []
        w = [fd] if events & selectors.EVENT_WRITE else []
        _select.select(r, w, [])
        return
    if attention:
        check_attention()
    g = p.curg
    assert g is not None
    token = new_token()
    entry = (GWaiter(g, token), events)
    waiters = p.io_waiters.setdefault(fd, [])
    waiters.append(entry)
    _io_register(p, fd)
    p.nio += 1
    try:
        park(_gmod.WAIT_IO, token)
    finally:
        p.nio -= 1
        lst = p.io_waiters.get(fd)
        if lst is not None and entry in lst:
            lst.remove(entry)
        _io_register(p, fd)


def _io_register(p: P, fd: int) -> None:
    lst = p.io_waiters.get(fd)
    mask = 0
    for _, ev in lst or ():
        mask |= ev
    try:
        key = p.selector.get_key(fd)
    except KeyError:
        key = None
    if mask == 0:
        p.io_waiters.pop(fd, None)
        if key is not None:
            p.selector.unregister(fd)
    elif key is None:
        p.selector.register(fd, mask, None)
    elif key.events != mask:
        p.selector.modify(fd, mask, None)


def _io_ready(p: P, fd: int, mask: int) -> None:
    lst = p.io_waiters.get(fd)
    if not lst:
        return
    keep = []
    for entry in lst:
        w, ev = entry
        if ev & mask:
            if w.token.acquire(False):
                w.wake()
        else:
            keep.append(entry)
    lst[:] = keep
    _io_register(p, fd)


# ---------------------------------------------------------------------------
# Foreign threads blocking in the runtime


def park_thread(w: ThreadWaiter, reason: str) -> None:
    """Block a foreign thread on its waiter's lock (deadlock-aware)."""
    ident = w.thread
    w.reason = reason
    note_foreign()
    with _sched_lock:
        _parked_threads[ident] = w
        victim = _detect_deadlock_locked() if _deadlock_detection else None
    if victim is not None:
        _deliver_deadlock(victim)
    elif any(p.idle for p in _all_ps):
        # An idle P may have counted this thread as a possible waker.
        for p in list(_all_ps):
            if p.idle:
                p.wakeup()
    try:
        w.lock.acquire()
    finally:
        with _sched_lock:
            _parked_threads.pop(ident, None)
    exc = w.exc
    if exc is not None:
        w.exc = None
        raise exc


# ---------------------------------------------------------------------------
# Deadlock detection


def _detect_deadlock_locked() -> G | ThreadWaiter | None:
    """Whom to tell 'all goroutines are asleep', or None. Holds _sched_lock.

    Possible wakers (docs/api.md#deadlock-and-possible-wakers): a runnable
    goroutine, a timer in a heap, an fd being waited on, a blocking() call
    queued or in flight, a foreign thread that is alive and not parked in the
    runtime, and a thread that has not used the runtime yet, the main thread
    included (see _unattached_thread_alive_locked:
    ``Thread(target=produce).start()`` then ``ch.recv()``: the thread may not
    have run at all when main parks).
    A panic or SIGINT pending for goroutine 1 wakes it too (its P was woken).
    """
    if _blocking_calls:
        return None
    # A panic or SIGINT pending for goroutine 1 wakes it. One held for a main
    # thread that has not used the runtime yet wakes nobody until it does:
    # if everything else is asleep, the main thread does not count, and the
    # panic ends the program (_deliver_deadlock): a thread parked here may
    # wait for the goroutine that panicked while the main thread waits for it.
    held = attention and _held_for_main_thread()
    if attention and not held:
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
    for ident, th in list(_foreign_threads.items()):
        if not th.is_alive():
            del _foreign_threads[ident]
            continue
        w = _parked_threads.get(ident)
        if w is None or w.token.locked():
            return None
    if _unattached_thread_alive_locked(count_main=not held):
        return None
    for p in _all_ps:
        if _main_ended and p.ident == _main_ident:
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
    for w in _parked_threads.values():
        if w.token.locked():
            return None  # woken by a thread that has ended since
    if (attention and not held) or _unattached_thread_alive_locked(count_main=not held):
        return None
    g1 = _main_g
    if _main_ended:
        return _non_daemon_victim_locked(g1)
    if g1 is not None and g1.state == WAITING:
        return g1
    main_ident = threading.main_thread().ident
    victim = _parked_threads.get(main_ident) if main_ident is not None else None
    if victim is None and _parked_threads:
        victim = next(iter(_parked_threads.values()))
    return victim


def _non_daemon_victim_locked(g1: G | None) -> G | ThreadWaiter | None:
    """Once the main module has ended, only a thread the interpreter will
    wait for is told of a deadlock: a daemon thread parked in the runtime is
    abandoned with the process, as a goroutine is, without a traceback."""
    daemon = {th.ident: th.daemon for th in threading.enumerate()}
    if g1 is not None and g1.state == WAITING and g1.p is not None:
        if daemon.get(g1.p.ident) is False:
            return g1
    for ident, w in _parked_threads.items():
        if daemon.get(ident) is False:
            return w
    return None


def _unattached_thread_alive_locked(count_main: bool = True) -> bool:
    """A threading.Thread that has not used the runtime yet (neither a P's
    thread nor registered as foreign) may still act. Holds _sched_lock.

    Dummy threads (made by _thread, like the blocking() helpers, which show
    up once they call current_thread()) count only once registered.

    Such a thread has not used the runtime yet, so the rule for foreign
    threads (docs/api.md#deadlock-and-possible-wakers) alone would not count
    it; but a thread just started to send on a channel has often not reached
    its send when goroutine 1 parks, and calling that a deadlock would be a
    false alarm. So a non-daemon thread counts while it is alive (it keeps the
    process alive too), a daemon thread for its first NEW_THREAD_GRACE
    seconds: a daemon thread parked forever in unrelated code never hides a
    deadlock for longer than that.

    The main thread is such a non-daemon thread until it first uses the
    runtime (docs/api.md#deadlock-and-possible-wakers:
    ``Thread(target=lambda: ch.send(42)).start()`` then
    ``ch.recv()`` on the main thread; the thread may reach its send first).
    Threads alive when goroutines was imported follow the same rule, their
    age counted from the import: a thread started before the import to send
    later is as much a waker as one started after it. (They used to count
    only once they used the runtime, a false Deadlock for that thread.)
    """
    now = monotonic()
    for th in threading.enumerate():
        if th.ident in _foreign_threads or not th.is_alive():
            continue  # (the main thread stays listed, stopped, at exit)
        if (_main_ended or not count_main) and th.ident == _main_ident:
            continue
        if isinstance(th, threading._DummyThread) or th.name.startswith("goroutines-"):
            continue
        if any(p.ident == th.ident for p in _all_ps):
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


_main_ident = threading.main_thread().ident
# The main module has ended (the interpreter waits for non-daemon threads,
# then exits): the main thread is no waker any more, and the goroutines of
# its P, abandoned, never run again.
_main_ended = False


def _on_main_end() -> None:
    """threading's exit hook, run when the main module ends, before the
    interpreter joins the non-daemon threads: a thread parked forever in the
    runtime would keep it waiting forever, with nobody left to tell it."""
    global _main_ended
    if _pending_panic is not None:
        # Goroutine 1 (or the main thread, goroutine 1 to be) never met it:
        # the program ends here, as Go's would have at the panic, rather
        # than after the non-daemon threads (which may wait for the
        # goroutine that panicked).
        _exit_with_pending_panic()
    with _sched_lock:
        _main_ended = True
        victim = _detect_deadlock_locked() if _deadlock_detection else None
        idle = [p for p in _all_ps if p.idle]
    if victim is not None:
        _deliver_deadlock(victim)
    for p in idle:
        p.wakeup()  # to look again, now without the main thread


def _deliver_deadlock(victim: G | ThreadWaiter) -> None:
    from .dump import dump

    if _held_for_main_thread():
        _exit_with_pending_panic()  # see _detect_deadlock_locked

    text = "all goroutines are asleep - deadlock!\n\n" + dump(
        first=victim if isinstance(victim, G) else None
    )
    if isinstance(victim, G):
        tok = victim.token
        if tok is not None and tok.acquire(False):
            victim.throw_exc = Deadlock(text)
            ready(victim)
    elif victim.token.acquire(False):
        victim.exc = Deadlock(text)
        victim.wake()


# ---------------------------------------------------------------------------
# Panics and signals: delivered to goroutine 1


def _panic(g: G, e: BaseException) -> None:
    global _pending_panic, _panic_in_flight
    p = g.p
    if p is not None and p.killing:
        if not isinstance(e, GreenletExit):
            _print_panic(e, g, "while run() was killing goroutines")
        return
    if isinstance(e, SystemExit):
        exc: BaseException = e
    else:
        exc = GoroutinePanic(f"goroutine {g.id} [{g.name}] panicked: {type(e).__name__}: {e}", g)
        exc.__cause__ = e
    if _panic_in_flight:
        _print_panic(e, g, "while an earlier panic is pending")
        return
    # Delivered to goroutine 1, or held for the main thread, goroutine 1 to
    # be (check_attention makes it goroutine 1 at its first runtime call).
    # Decided under _sched_lock, which the main thread also holds when it
    # turns out foreign (an asyncio loop: _attach): either it sees this panic
    # held and ends the program, or this sees it foreign.
    with _sched_lock:
        g1 = _goroutine1()
        held = g1 is not None or _main_thread_may_attach()
        if held:
            _panic_in_flight = True
            _pending_panic = exc
            _set_attention(True)
    if not held:
        # No goroutine 1 to deliver to, now or later: Go prints the panic
        # and exits 2.
        if isinstance(e, SystemExit):
            _flush_and_exit(e.code if isinstance(e.code, int) else 1)
        _print_panic(e, g, None)
        _flush_and_exit(2)
    p1 = g1.p if g1 is not None else None
    if p1 is not None and p1.ident != get_ident():
        p1.wakeup()


def panic_current(e: BaseException) -> None:
    """Deliver e as the panic of the calling goroutine, which then ends
    without raising it (WaitGroup.go: the panic is pending before done())."""
    p = _tls.p
    assert p is not None and p.curg is not None
    _panic(p.curg, e)


def _goroutine1() -> G | None:
    """The goroutine a panic is delivered to, or None."""
    g1 = _main_g
    if g1 is None or g1.state == DEAD:
        return None
    if _main_ended and g1.p is not None and g1.p.ident == _main_ident:
        return None  # its code has ended: nobody left to meet a panic
    return g1


def _main_thread_may_attach() -> bool:
    """The main thread has not used the runtime yet, and may: it would become
    goroutine 1. Not a thread running an asyncio loop (foreign), not once
    the main module has ended."""
    if _main_ended or _main_ident is None or _main_ident in _foreign_threads:
        return False
    if any(p.ident == _main_ident for p in _all_ps):
        return False
    return threading.main_thread().is_alive()


def _held_for_main_thread() -> bool:
    """A panic waits for a main thread that has not used the runtime yet."""
    return _pending_panic is not None and _goroutine1() is None


def _exit_with_pending_panic() -> NoReturn:
    """Print the pending panic as Go does (SystemExit: exit with its code)."""
    exc = _pending_panic
    assert exc is not None
    if isinstance(exc, SystemExit):
        _flush_and_exit(exc.code if isinstance(exc.code, int) else 1)
    cause = exc.__cause__ or exc
    g = getattr(exc, "goroutine", None)
    try:
        sys.stdout.flush()
    except Exception:
        pass
    head = f"panic: goroutine {g.id} [{g.name}]: " if g is not None else "panic: "
    try:
        sys.stderr.write(head + "".join(traceback.format_exception(cause)))
    finally:
        _flush_and_exit(2)


def _print_panic(e: BaseException, g: G, note: str | None) -> None:
    head = f"panic: goroutine {g.id} [{g.name}]"
    if note:
        head += f" ({note})"
    sys.stderr.write(head + ": " + "".join(traceback.format_exception(e)) + "\n")
    sys.stderr.flush()


def _flush_and_exit(code: int) -> NoReturn:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _take_pending() -> BaseException | None:
    """The exception waiting for goroutine 1 (signal first), clearing it."""
    global _pending_panic, _sigint_pending, _panic_in_flight
    if _sigint_pending:
        _sigint_pending = False
        _set_attention(_pending_panic is not None or _exiting)
        return KeyboardInterrupt()
    exc = _pending_panic
    _pending_panic = None
    _panic_in_flight = False
    _set_attention(_sigint_pending or _exiting)
    return exc


def _attend(p: P) -> None:
    """In the scheduler: throw a pending panic or SIGINT into a parked goroutine 1."""
    g1 = _main_g
    if g1 is None or g1.p is not p:
        return
    if g1.state == WAITING:
        tok = g1.token
        if tok is not None and tok.acquire(False):
            g1.throw_exc = _take_pending()
            ready(g1)


def check_attention() -> None:
    """At a public entry point: raise what waits for goroutine 1, if we are it.

    The main thread at its first runtime call becomes goroutine 1 here, to
    get a panic held for it (see _panic)."""
    p = _tls.p
    if _exiting and p is not None:
        _park_if_exiting(p)  # a runtime call is a schedule point at exit
    if p is None and _held_for_main_thread() and not _tls.foreign and get_ident() == _main_ident:
        p = getp()
        if p is None and not _main_thread_may_attach():
            _exit_with_pending_panic()  # it turned out foreign (an asyncio loop)
    if p is None or p.curg is not _main_g or _main_g is None:
        return
    exc = _take_pending()
    if exc is not None:
        raise exc


def _stdlib_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple({os.path.join(paths[k], "") for k in ("stdlib", "platstdlib") if k in paths})


_STDLIB_DIRS = _stdlib_dirs()


def _in_runtime(frame: FrameType | None) -> bool:
    """Whether a signal handler interrupted the runtime (not the program).

    The runtime calls into the standard library (threading, selectors): a
    SIGINT raised in Thread.start() under blocking() would unwind the
    runtime half-way (it took the exception for a refused thread and lost
    it). So the standard library's frames are looked through, and the first
    other frame decides: goroutines' own means the runtime.
    """
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if isinstance(name, str) and name.startswith("goroutines."):
            return True
        filename = frame.f_code.co_filename
        if not (
            filename.startswith("<frozen ")
            or (filename.startswith(_STDLIB_DIRS) and "-packages" not in filename)
        ):
            return False
        frame = frame.f_back
    return False


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _sigint_pending
    g1 = _main_g
    if (
        g1 is not None
        and g1.state == RUNNING
        and getcurrent() is g1.greenlet
        and not _in_runtime(frame)
    ):
        raise KeyboardInterrupt
    _sigint_pending = True
    _set_attention(True)
    if g1 is not None and g1.p is not None:
        g1.p.wakeup()


def _on_sigquit(signum: int, frame: FrameType | None) -> None:
    from .dump import dump

    try:
        text = "SIGQUIT: quit\n\n" + dump() + "\n"
        exc = _pending_panic
        if exc is not None:  # never met by goroutine 1: show it too
            text += "pending " + "".join(traceback.format_exception(exc.__cause__ or exc))
        sys.stderr.write(text)
    finally:
        _flush_and_exit(2)


def _install_sigquit_at_import() -> None:
    """Ctrl-\\ dumps every goroutine even when the main thread never uses the
    runtime (goroutines started from plain threads run on the background
    P): only the main thread can install a handler, so do it at import.

    A process-wide side effect (docs/differences.md, Signals): only when
    SIGQUIT still has its default action (a core dump) and the import runs on
    the main thread of the main interpreter; a program's own handler, set
    before or after the import, is left alone.
    """
    sigquit = getattr(signal, "SIGQUIT", None)
    if sigquit is None or threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(sigquit) == signal.SIG_DFL:
            signal.signal(sigquit, _on_sigquit)
    except ValueError:  # not the main interpreter
        pass


def _install_signal_handlers(p: P) -> None:
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            p.saved_sigint = signal.signal(signal.SIGINT, _on_sigint)
        sigquit = getattr(signal, "SIGQUIT", None)
        if sigquit is not None and signal.getsignal(sigquit) == signal.SIG_DFL:
            p.saved_sigquit = signal.signal(sigquit, _on_sigquit)
    except ValueError:  # not the main thread of the main interpreter
        pass


def sigint_handler_to_restore(prev: Any) -> Any:
    """The SIGINT handler to put back where a program's own handler
    (goroutines.context.notify_context) had replaced prev: the runtime's
    while run() holds a P on the main thread and prev is Python's default
    (the runtime would have installed its own then), Python's default if prev
    is the runtime's but no P owns it any more; else prev. Called from a
    signal handler too: takes no lock."""
    if prev is signal.default_int_handler:
        for p in list(_all_ps):
            if p.g1 is not None and p.ident == _main_ident and p.saved_sigint is None:
                p.saved_sigint = prev
                return _on_sigint
    elif prev is _on_sigint and all(p.saved_sigint is None for p in list(_all_ps)):
        return signal.default_int_handler
    return prev


def _restore_signal_handlers(p: P) -> None:
    try:
        if p.saved_sigint is not None and signal.getsignal(signal.SIGINT) is _on_sigint:
            signal.signal(signal.SIGINT, p.saved_sigint)
        sigquit = getattr(signal, "SIGQUIT", None)
        if p.saved_sigquit is not None and sigquit is not None:
            if signal.getsignal(sigquit) is _on_sigquit:
                signal.signal(sigquit, p.saved_sigquit)
    except ValueError:
        pass
    p.saved_sigint = None
    p.saved_sigquit = None


# Interpreter exit. Goroutines are abandoned at exit
# (docs/api.md#the-main-goroutine-and-the-implicit-model), but a P's
# thread must not be running one when the interpreter finalizes: CPython
# stops a daemon thread that takes the GIL back during finalization
# (pthread_exit on 3.11/3.12, a fatal error on 3.13) wherever it is, and
# inside a goroutine that unwinds through the C frames of its greenlet -
# a SIGSEGV. A P that is idle or busy would both get there within
# milliseconds (its idle poll, the GIL's 5 ms switch interval).
# So at exit every P but the main thread's parks at its next schedule point
# (_find_runnable, gosched, a runtime call: _park_if_exiting), blocked for
# good on a lock without the GIL and with signals blocked, and the process
# ends around it. A P that does not get there (a goroutine computing without
# runtime calls, or in a long foreign call) within EXIT_PARK_WAIT of its
# thread's CPU time (a loaded machine may not run it at all for that long),
# or EXIT_PARK_LIMIT in all, cannot be stopped safely: the process then
# exits at once, stdio flushed, with the status the interpreter would have
# exited with as far as it can be known (_exit_status), skipping the atexit
# handlers not yet run and the finalization.
# Rejected: stopping only an idle P (a busy one crashed 39 times in 40);
# raising an exception in the busy goroutine (it would run finally blocks,
# which Go does not do at exit, and only from the next line of Python code);
# waiting for it (a goroutine that never parks would keep the process alive).
EXIT_PARK_WAIT = 0.1
EXIT_PARK_LIMIT = 0.5
_exiting = False
_exit_cond = threading.Condition(threading.Lock())  # guards _exit_parked
_exit_parked: set[P] = set()


def _park_if_exiting(p: P) -> None:
    """At a schedule point while exiting: park p's thread for good, unless
    it is the main thread (which runs the exit)."""
    if _exiting and get_ident() != _main_ident:
        _park_for_exit(p)


def _park_for_exit(p: P) -> NoReturn:
    try:
        # A signal handled on this thread would make the lock wait below
        # take the GIL back (to run pending calls) during finalization.
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        pass
    with _exit_cond:
        _exit_parked.add(p)
        _exit_cond.notify_all()
    forever = allocate_lock()
    forever.acquire()
    while True:
        forever.acquire()


def _safe_at_exit(p: P) -> bool:
    """p's thread may be stopped by the interpreter: parked, or running its
    own code in its own greenlet (goroutine 1 of a run() on a daemon thread;
    it parks for exit as soon as it switches to another goroutine)."""
    if p in _exit_parked or p.ident not in sys._current_frames():
        return True  # (a thread that has ended cannot be stopped)
    g1 = p.g1
    return g1 is not None and p.curg is g1 and g1.state == RUNNING


@atexit.register
def _stop_ps_for_exit() -> None:
    global _exiting
    with _sched_lock:
        others = [p for p in _all_ps if p.ident != _main_ident]
    if not others:
        return
    _exiting = True
    _set_attention(True)  # every schedule point takes the slow path
    for p in others:
        p.wakeup()
    start = monotonic()
    cpu0: dict[P, float] = {}  # CPU time of each busy P's thread when first seen
    with _exit_cond:
        while True:
            busy = [p for p in others if not _safe_at_exit(p)]  # alive threads
            if not busy:
                return
            for p in busy:
                cpu0.setdefault(p, _thread_cpu(p))
            waited = monotonic() - start
            if waited >= EXIT_PARK_LIMIT or (
                waited >= EXIT_PARK_WAIT
                and any(_thread_cpu(p) - cpu0[p] >= EXIT_PARK_WAIT for p in busy)
            ):
                _exit_without_finalizing(busy)
            _exit_cond.wait(0.01)


def _thread_cpu(p: P) -> float:
    """CPU time used by p's thread (alive: see _safe_at_exit); where unknown,
    wall time (so a P is given EXIT_PARK_WAIT of it)."""
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(p.ident))
    except (AttributeError, OSError):
        return monotonic()


def _exit_status() -> int:
    """The status the interpreter would exit with, as far as an atexit
    handler can tell: 1 if an exception ended the main module (Ctrl-C: -1,
    see _exit_without_finalizing), else 0. A sys.exit(n) of the main module
    leaves no trace by then (CPython has taken its code and cleared it)."""
    exc = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    if isinstance(exc, KeyboardInterrupt):
        return -1
    return 1 if isinstance(exc, BaseException) else 0


def _exit_without_finalizing(busy: list[P]) -> NoReturn:
    """End the process now, stdio flushed (see the comment above EXIT_PARK_WAIT).
    One line on stderr says why: atexit handlers are skipped, and the status
    may be an approximation (_exit_status)."""
    status = _exit_status()
    try:
        sys.stdout.flush()
    except Exception:
        pass
    try:
        gs = ", ".join(f"goroutine {p.curg.id} [{p.curg.name}]" for p in busy if p.curg is not None)
        sys.stderr.write(
            f"goroutines: {gs or 'a goroutine'} still running at exit, at no schedule point: "
            "exiting without finalizing\n"
        )
        sys.stderr.flush()
    except Exception:
        pass
    if status < 0:  # an unhandled Ctrl-C: die of SIGINT, as CPython does
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        except (OSError, ValueError):
            pass
        status = 128 + signal.SIGINT
    os._exit(status)


@atexit.register
def _at_exit() -> None:
    # _on_main_end has done this, unless threading has no exit hook.
    if _pending_panic is not None:
        _exit_with_pending_panic()


# ---------------------------------------------------------------------------
# run() and friends


def gosched() -> None:
    p = _tls.p
    if p is None:
        p = getp()
        if p is None:
            _os_sleep(0)
            return
    if attention:
        if _exiting:
            _park_if_exiting(p)
        check_attention()
    g = p.curg
    assert g is not None
    if p.killing and not g.is_main:
        raise GreenletExit
    if not (p.runq or p.timerq or p.runnext is not None or p.inbound or p.timers or p.nio):
        return
    g.state = RUNNABLE
    p.runq.append(g)
    nxt = _find_runnable(p)
    if nxt is g:
        g.state = RUNNING
        p.curg = g
    else:
        _switch_to(p, nxt)
    # The goroutines that ran meanwhile may have panicked: goroutine 1
    # meets the panic here, not at some later call (nothing is lost).
    if attention:
        check_attention()


def run(main: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    global _pending_panic, _panic_in_flight
    p = _tls.p
    if p is not None and (p.in_run or p.curg is not p.g1):
        raise RuntimeError(
            "run() called from inside a goroutine: run() starts the main goroutine "
            "of a program; call the function directly, or go(fn) to start another"
        )
    made = False
    if p is None:
        if len(allgs) == 0:
            _gmod.reset_ids(2)
        if threading.current_thread() is threading.main_thread() and not _asyncio_running():
            p = _make_main_p(gid=1)
        else:
            p = _make_main_p(gid=next_id())
            made = True
    else:
        if p.g1 is not None and len(allgs) == 1:
            _gmod.reset_ids(2)
    p.in_run = True
    outer_loop = _tls.run_loop
    _tls.run_loop = _running_loop()
    try:
        try:
            result = main(*args, **kwargs)
        finally:
            p.in_run = False
            kill_others(p)
    except BaseException:
        if _pending_panic is not None:
            exc = _take_pending()
            if exc is not None:
                sys.stderr.write(
                    "goroutines: a goroutine panicked while main was failing:\n"
                    + "".join(traceback.format_exception(exc.__cause__ or exc))
                )
        raise
    finally:
        _tls.run_loop = outer_loop
        if made:
            _detach_p(p)
    if attention:
        exc = _take_pending()
        if exc is not None:
            raise exc
    return result


def kill_others(p: P) -> None:
    """Kill every goroutine of p but its goroutine 1 (run() returning)."""
    me = getcurrent()
    p.killing = True
    try:
        p.runq.clear()
        p.timerq.clear()
        p.runnext = None
        p.inbound.clear()
        for _ in range(3):  # goroutines started by dying ones, then theirs
            victims = [g for g in list(allgs.values()) if g.p is p and g is not p.g1]
            if not victims:
                break
            for g in victims:
                gr = g.greenlet
                if gr is None or gr.dead:
                    g.state = DEAD
                    allgs.pop(g.id, None)
                    continue
                tok = g.token
                if tok is not None:
                    tok.acquire(False)
                gr.parent = me
                p.curg = g
                g.state = RUNNING
                try:
                    gr.throw(GreenletExit)
                except BaseException as e:  # pragma: no cover - defensive
                    _print_panic(e, g, "while run() was killing goroutines")
                g.state = DEAD
                allgs.pop(g.id, None)
            p.runq.clear()
            p.timerq.clear()
            p.runnext = None
            p.inbound.clear()
        with p.timer_lock:
            for entry in p.timers:
                t = entry[2]
                if t is not None:
                    t.entry = None
            p.timers.clear()
            p.ntimers = 0
        for fd in list(p.io_waiters):
            p.io_waiters.pop(fd, None)
            try:
                p.selector.unregister(fd)
            except (KeyError, ValueError):
                pass
        p.nio = 0
    finally:
        p.killing = False
        if p.g1 is not None:
            p.curg = p.g1
            p.g1.state = RUNNING
            p.g1.token = None


# ---------------------------------------------------------------------------
# fork


def _after_fork_child() -> None:
    """The child keeps only the forking goroutine, as its goroutine 1."""
    global _bg_p, _main_g, _blocking_calls
    global _pending_panic, _panic_in_flight, _sigint_pending
    global _sched_lock, _bg_lock, _exit_cond, _main_ident
    _sched_lock = threading.Lock()
    _bg_lock = threading.Lock()
    _exit_cond = threading.Condition(threading.Lock())
    _exit_parked.clear()
    _main_ident = threading.main_thread().ident  # (threading's fork hook ran first)
    _blocking_calls = 0  # blocking.py resets its helper pool
    _foreign_threads.clear()
    _parked_threads.clear()
    _bg_p = None
    _pending_panic = None
    _panic_in_flight = False
    _sigint_pending = False
    _set_attention(False)
    p = _tls.p
    _graveyard.append(list(allgs.values()))
    allgs.clear()
    _all_ps.clear()
    if p is None:
        _main_g = None
        _tls.foreign = False
        return
    _graveyard.append(p.free_workers)
    p.free_workers = []
    p.ident = get_ident()
    p.timer_lock = new_lock()
    p.runq.clear()
    p.timerq.clear()
    p.runnext = None
    p.inbound.clear()
    for entry in p.timers:
        if entry[2] is not None:
            entry[2].entry = None
    p.timers.clear()
    p.ntimers = 0
    p.io_waiters.clear()
    p.nio = 0
    p.idle = False
    p.sleeping = False
    p.selector.close()
    os.close(p.wake_r)
    os.close(p.wake_w)
    p._open_poller()
    g = p.curg
    assert g is not None
    g.id = 1
    g.name = "main" if g.fn is None else g.name
    g.state = RUNNING
    p.g1 = g
    p.home = g.greenlet
    _main_g = g
    allgs[1] = g
    _gmod.reset_ids(2)
    _all_ps.append(p)


# Greenlets of goroutines that do not exist in a forked child: kept referenced
# so they are never collected (collection would run their finally blocks).
_graveyard: list[Any] = []

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_child)

_install_sigquit_at_import()

# Private, but what concurrent.futures uses for the same moment (3.9+).
_register_threading_atexit = getattr(threading, "_register_atexit", None)
if _register_threading_atexit is not None:
    _register_threading_atexit(_on_main_end)

if speedups is not None:
    # The C ports of park_g, ready and GWaiter.wake (see accel.py); every
    # caller looks them up here or through waiter.install, after this point.
    speedups.setup_sched(sys.modules[__name__], _gmod, _waiter_mod)
    # Greenlets' frame-stack chunks from a cache instead of an mmap/munmap
    # per goroutine (see _speedups.c; it checks what it relies on first, and
    # speedups.frame_stack_cache() says whether it is in place). A process-wide
    # change: GOROUTINES_ARENA=0 leaves the interpreter's allocator alone.
    if os.environ.get("GOROUTINES_ARENA", "") != "0":
        speedups.cache_frame_stacks()
    park_g = speedups.park_g
    ready = speedups.ready
    speedups.setup_go(go, _gmod)
    go = speedups.sched_go
    accel.install(GWaiter, {"wake": speedups.gwaiter_wake})

install(ready, park, park_thread)

__all__ = [
    "P",
    "attention",
    "background_p",
    "check_attention",
    "current_waiter",
    "getp",
    "go",
    "gosched",
    "kill_others",
    "note_foreign",
    "note_use",
    "park",
    "park_g",
    "park_thread",
    "ready",
    "ready_from_timer",
    "run",
    "throw",
    "wait_fd",
]
