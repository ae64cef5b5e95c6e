"""proc: go, ready, park, the worker greenlets, find-runnable, idle, run, kill.

Go's proc.go for the goroutines runtime (the P type and the shared state it
works on are in sched.py, with the lock-order table).

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

Invariants (for a P, touched only by its own thread except where noted):
  * p.runnext, p.timerq, p.runq hold RUNNABLE Gs of this P; p.curg is RUNNING.
  * p.inbound is the only structure other threads touch: they append Gs they
    readied (after winning the G's park token), then write p's wakeup fd if
    p.sleeping. p sets sleeping *before* its last look at inbound and at the
    timers, so a wake-up is never lost.
  * p.idle is written under _sched._sched_lock; it is True only while p sleeps in
    its selector with nothing runnable.
  * A started G never leaves its P (greenlets cannot cross threads).
  * ready() is never called with a primitive's lock held (sched.py's lock
    order), and only by the winner of the G's park token.
"""

from __future__ import annotations

import contextvars
import os
import signal as _signal
import sys
import threading
import traceback
from _thread import get_ident
from collections.abc import Callable
from time import sleep as _os_sleep
from types import CoroutineType
from typing import Any, TypeVar

from greenlet import GreenletExit, getcurrent, greenlet

from . import accel, clock, timers
from . import dump as _dump_mod
from . import events as _events
from . import exit as _exit
from . import g as _gmod
from . import sched as _sched
from .deadlock import (
    _deadlock_detection,
    _deliver_deadlock,
    detect_before_idle_locked,
    park_thread,
)
from .errors import throw
from .g import DEAD, RUNNABLE, RUNNING, WAITING, G, KwCall, allgs, next_id
from .kill import _kill_done, _kill_here, _kill_other_ps, kill_others
from .netpoll import poll as _poll
from .panic import (
    _exit_with_pending_panic,
    _held_for_main_thread,
    _install_signal_handlers,
    _panic,
    _take_pending,
    check_attention,
    panic_current,
)
from .sched import (
    FOREIGN_POLL,
    MAX_FREE_WORKERS,
    RUNNEXT_STREAK,
    TIMER_CHECK_MASK,
    P,
    _all_ps,
    _asyncio_running,
    _foreign_threads,
    _register_foreign,
    getp,
    note_foreign,
    note_use,
    set_p,
)
from .waiter import GWaiter, Token, Waiter, foreign_waiter, install

T = TypeVar("T")

# The accelerator while its port "sched" is on (accel.py), else None.
speedups: Any = accel.port("sched")

_copy_context = contextvars.copy_context
_new_object = object.__new__
_getframe = sys._getframe
_modules = sys.modules
_tls = _sched.tls

# Read as a global of this module (one load, on every schedule); kept equal to
# sched.attention by sched._set_attention (registered first, then read: no
# store in between is lost).
_sched._attention_mirrors.append(globals())
attention = _sched.attention

_bg_p: P | None = None  # the background P (see background_p)
_bg_lock = threading.Lock()  # guards starting the background P (see the lock order in sched.py)


# ---------------------------------------------------------------------------
# Attaching threads


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


def attach() -> P | None:
    if threading.current_thread() is threading.main_thread():
        if not _asyncio_running():
            _sched._loop_main = 0
            return _make_main_p(gid=1)
        _sched._loop_main = get_ident()
        _register_foreign()
        if _held_for_main_thread():
            # A panic held for the main thread, which turns out foreign:
            # there is no goroutine 1 to meet it (see _panic).
            _exit_with_pending_panic()
        return None
    _register_foreign()
    return None


def _make_main_p(gid: int) -> P:
    p = P()
    if gid == 1:
        p.id = 0  # goroutine 1's P is P0, as Go numbers the first P
    g1 = G(gid, None, (), p)
    g1.name = "main"
    g1.state = RUNNING
    g1.greenlet = getcurrent()
    p.g1 = g1
    p.curg = g1
    p.home = g1.greenlet
    _start_g0(p)
    set_p(p)
    _tls.foreign = False
    allgs[g1.id] = g1
    with _sched._sched_lock:
        _all_ps.append(p)
        # A thread that was foreign (an asyncio loop ran on it) and now hosts
        # run()'s P is a P now: as a foreign thread it would stay a "possible
        # waker" forever and hide every later deadlock.
        _foreign_threads.pop(get_ident(), None)
    if _sched._main_g is None or _sched._main_g.state == DEAD:
        _sched._main_g = g1
    if threading.current_thread() is threading.main_thread():
        _install_signal_handlers(p)
    if _sysmon_start is not None:
        _sysmon_start()
    return p


def _detach_p(p: P) -> None:
    """Forget a P made by run() on a non-main thread."""
    with _sched._sched_lock:
        if p in _all_ps:
            _all_ps.remove(p)
    if p.g1 is not None:
        p.g1.state = DEAD
        allgs.pop(p.g1.id, None)
        if _sched._main_g is p.g1:
            _sched._main_g = None
    set_p(None)
    if _p_detached is not None:
        _p_detached(p)  # after it left _all_ps: see preempt.request
    p.selector.close()
    os.close(p.wake_r)
    os.close(p.wake_w)


def background_p() -> P:
    """The P of the background scheduler thread, started on first use: it runs
    the goroutines that threads without a P (plain threads, asyncio loops)
    start. It is one of the max_procs Ps, and the first hand-off target."""
    global _bg_p
    p = _bg_p
    if p is not None:
        return p
    with _bg_lock:
        if _bg_p is None:
            _bg_p = start_p("goroutines-scheduler")
        return _bg_p


def start_p(name: str) -> P:
    """Start a P on a new daemon thread (the background P, sysmon's hand-off
    Ps) and return it once it is in _all_ps. Its thread runs the P's
    scheduler loop in its home greenlet until the process ends."""
    started = threading.Event()
    box: list[P] = []

    def main() -> None:
        _sched.block_async_signals()
        p = P()
        p.home = getcurrent()
        _start_g0(p)
        set_p(p)
        box.append(p)
        with _sched._sched_lock:
            _all_ps.append(p)
        started.set()
        while True:
            if p.killing:
                # The goroutine this loop ran last was killed by _kill_here,
                # which finishes here (see there).
                _kill_done(p)
            nxt = _find_runnable(p)
            _switch_to(p, nxt)

    t = threading.Thread(target=main, name=name, daemon=True)
    t.start()
    started.wait()
    if _sysmon_start is not None:
        _sysmon_start()
    return box[0]


# sysmon's start (set by sysmon.py, above this module in the import order):
# called when a P is made, so that a program that only imports the library
# starts no monitor thread.
_sysmon_start: Callable[[], None] | None = None

# Preemption's cancel (set by preempt.py): a P that run() made and forgets
# keeps no request and no armed code behind it.
_p_detached: Callable[[P], None] | None = None


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
    # From here to the queueing, the G's construction: the accelerator's
    # new_g (_speedups.c) in the same order - context, the G's fields, allgs,
    # the run queue, and out of allgs again if queueing fails. Inline, not a
    # function of its own: a call more per go() on the pure path.
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
    h = _events.hooks[_events.CREATE]
    if h is not None:  # before another P can start it
        h(_events.CREATE, g, g)
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
        if _events.hook is not None:
            _events.hook(_events.READY, g, None)
        try:
            p.timerq.append(g)
        except BaseException as e:
            raise throw(f"ready: goroutine {g.id} could not be made runnable") from e
        g.state = RUNNABLE
    else:
        ready(g)


def ready(g: G) -> None:
    """Make a parked g runnable. The caller has won g's park token.

    Twin of the accelerator's ready_impl, which serves both ready and
    GWaiter.wake; on the pure path GWaiter.wake is this body inlined (a call
    less on every hand-off), kept line for line the same.

    Go's goready cannot fail, and this must not fail quietly: the token is
    won, so nobody else will ever ready g. A failing step (a queue append,
    the wake-up) raises RuntimeFault - g is lost, a broken runtime - with the
    original error as its __cause__, never an error a caller could take for
    its own. The order loses nothing else: on this thread the old runnext is
    appended first (it stays runnext if that fails); for another thread's P,
    g is runnable before that thread can find it in inbound.
    """
    if _events.hook is not None:
        _events.hook(_events.READY, g, None)
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


def park(reason: str, token: Token) -> None:
    """Block the current goroutine until its park token is won and it is readied.

    Raises what a waker delivered instead of a result (a panic or SIGINT for
    goroutine 1, Deadlock, GreenletExit when run() kills goroutines).
    """
    p = _tls.p
    assert p is not None
    g = p.curg
    assert g is not None
    park_g(p, g, reason, token)


def park_g(p: P, g: G, reason: str, token: Token) -> None:
    """park() for a caller that already knows its P and G (p.curg is g)."""
    if p.killing and not g.is_main:
        raise GreenletExit
    g.state = WAITING
    g.wait_reason = reason
    g.token = token
    if _events.hook is not None:
        _events.hook(_events.PARK, g, reason)
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
    if _events.hook is not None:
        _events.hook(_events.RESUME, g, None)
    exc = g.throw_exc
    if exc is not None:
        g.throw_exc = None
        raise exc


def current_waiter(token: Token) -> Waiter:
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
        if _events.hook is not None:
            _events.hook(_events.START, g, None)
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
            if _events.hook is not None:
                _events.hook(_events.FINISH, g, None)
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
            try:
                nxt = runq.popleft()
            except IndexError:  # handed to another P meanwhile (sysmon)
                nxt = _find_runnable(p)
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
            if _exit._exiting:
                _exit._park_if_exiting(p)
            _attend(p)
        tick = p.schedtick = p.schedtick + 1
        if p.inbound:
            _drain_inbound(p)
        if not tick & TIMER_CHECK_MASK:
            # run() on another P asked this one to kill its goroutines: seen
            # here while busy (every TIMER_CHECK_MASK+1 schedules, where the
            # accelerator's fast path leaves it to this function), and below
            # before sleeping.
            if p.kill_req is not None:
                _kill_here(p)
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
            try:
                return p.runq.popleft()
            except IndexError:
                # sysmon handed the last one, not yet started, to another P
                # between the test and the pop (see sysmon.handoff).
                continue
        if p.timers and timers.run_due(p):
            continue
        if p.kill_req is not None:
            _kill_here(p)
            continue
        _idle(p)


def _drain_inbound(p: P) -> None:
    inbound = p.inbound
    runq = p.runq
    try:
        while inbound:
            runq.append(inbound.popleft())
    except IndexError:
        pass  # sysmon handed the rest to another P (see sysmon.handoff)


def _attend(p: P) -> None:
    """In the scheduler: throw a pending panic or SIGINT into a parked goroutine 1."""
    g1 = _sched._main_g
    if g1 is None or g1.p is not p:
        return
    # Only with something to throw: attention also stands for an exit in
    # progress, and goroutine 1 woken with nothing granted and nothing thrown
    # would take it for a spurious wake-up. Only this P's scheduler and
    # goroutine 1 itself (not while it waits) take what is pending.
    if g1.state == WAITING and (_sched._pending_panic is not None or _sched._sigint_pending):
        tok = g1.token
        if tok is not None and tok.acquire(False):
            g1.throw_exc = _take_pending()
            ready(g1)


def _idle(p: P) -> None:
    """Nothing to run: sleep until a timer, an fd, another thread or a signal."""
    if _exit._exiting:
        _exit._park_if_exiting(p)
    p.sleeping = True
    if p.inbound or p.runq or p.timerq or p.runnext is not None:
        p.sleeping = False
        return
    when = timers.next_when(p)
    timeout: float | None = None
    if when is not None:
        timeout = when - clock.base()  # a P's timers: never a bubble's clock
        if timeout <= 0:
            p.sleeping = False
            return
    with _sched._sched_lock:
        p.idle = True
        if _deadlock_detection:
            victim, look_again = detect_before_idle_locked()
            if look_again and (timeout is None or timeout > FOREIGN_POLL):
                timeout = FOREIGN_POLL
        else:
            victim = None
    if victim is not None:
        with _sched._sched_lock:
            p.idle = False
        p.sleeping = False
        _deliver_deadlock(victim)
        return
    if p.ident == _sched._main_ident:
        _poll_waking_on_signals(p, timeout)
    else:
        _poll(p, timeout)
    p.sleeping = False
    with _sched._sched_lock:
        p.idle = False


def _poll_waking_on_signals(p: P, timeout: float | None) -> None:
    """The main thread's P sleeps with its wake pipe as the signal wakeup fd.

    Python runs a handler only when the main thread next executes bytecode.
    A signal that arrived after the P's last look at its run queue but just
    before its thread entered epoll_wait would only trip CPython's flag: the
    SIGINT or SIGQUIT handler would wait for the poll's timeout (an hour
    behind sleep(3600)). With the pipe as the wakeup fd, CPython's C-level
    handler writes into it and the wait returns at once; one that arrived
    before the fd was set is handled at the bytecodes on the way in. Only
    for the sleep, so that no other library (asyncio, trio) finds the fd
    taken, and only when no wakeup fd is set: a program's own is kept."""
    try:
        prev = _signal.set_wakeup_fd(p.wake_w, warn_on_full_buffer=False)
    except (ValueError, OSError):  # not the main interpreter
        _poll(p, timeout)
        return
    if prev != -1:
        _signal.set_wakeup_fd(prev)  # the program's own
        _poll(p, timeout)
        return
    try:
        _poll(p, timeout)
    finally:
        _signal.set_wakeup_fd(-1)


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
        if _exit._exiting:
            _exit._park_if_exiting(p)
        check_attention()
    g = p.curg
    assert g is not None
    if p.killing and not g.is_main:
        raise GreenletExit
    if not (p.runq or p.timerq or p.runnext is not None or p.inbound or p.timers or p.nio):
        return
    if _events.hook is not None:
        _events.hook(_events.GOSCHED, g, None)
    g.state = RUNNABLE
    p.runq.append(g)
    nxt = _find_runnable(p)
    if nxt is g:
        g.state = RUNNING
        p.curg = g
    else:
        _switch_to(p, nxt)
    if _events.hook is not None:
        _events.hook(_events.RESUME, g, None)
    # The goroutines that ran meanwhile may have panicked: goroutine 1
    # meets the panic here, not at some later call (nothing is lost).
    if attention:
        check_attention()


def run(main: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
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
            _kill_other_ps(p)
    except BaseException:
        if _sched._pending_panic is not None:
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


# The accelerator's ports "sched", "go" and "arena" (accel.py), each set up
# with the objects it uses; every caller looks park_g, ready and go up here or
# through waiter.install, after this point.
if speedups is not None:
    # park_g, ready, GWaiter.wake, and set_p/_set_attention's C half (the C
    # code reads attention in sched's globals).
    accel.setup(
        "sched",
        waiter_cls=Waiter,
        gwaiter_cls=GWaiter,
        g_cls=G,
        p_cls=_sched.P,
        sched_globals=vars(_sched),
        find_runnable=_find_runnable,
        throw=throw,
        note_use=_sched.note_use,
        py_gwaiter_wake=GWaiter.wake,
        runnable=RUNNABLE,
        running=RUNNING,
        waiting=WAITING,
        wait_chan_send=_gmod.WAIT_CHAN_SEND,
        wait_chan_receive=_gmod.WAIT_CHAN_RECEIVE,
        timer_check_mask=_sched.TIMER_CHECK_MASK,
        runnext_streak=_sched.RUNNEXT_STREAK,
    )
    park_g = speedups.park_g
    ready = speedups.ready
    accel.install(GWaiter, {"wake": speedups.gwaiter_wake})
if accel.port("go") is not None:
    accel.setup("go", py_sched_go=go, g_globals=vars(_gmod), allgs=allgs)
    go = accel.speedups.sched_go
# Greenlets' frame-stack chunks from a cache instead of an mmap/munmap per
# goroutine (see _speedups/arena.c; it checks what it relies on first, and
# frame_stack_cache() says whether it is in place). A process-wide change:
# GOROUTINES_ARENA=0 leaves the interpreter's allocator alone.
if accel.port("arena") is not None and os.environ.get("GOROUTINES_ARENA", "") != "0":
    accel.speedups.cache_frame_stacks()

install(ready, park, park_thread)

__all__ = [
    "attach",
    "background_p",
    "check_attention",
    "coroutine_returned",
    "current_waiter",
    "go",
    "gosched",
    "kill_others",
    "note_foreign",
    "note_use",
    "park",
    "park_g",
    "panic_current",
    "park_thread",
    "ready",
    "ready_from_timer",
    "run",
]
