"""The scheduler's shared state: P, this thread's P, the locks, attention.

Go's runtime2.go for the goroutines runtime. The core (``_runtime``) is
split along Go's seams; each module states its invariants:

    errors.py    the error classes the core raises (re-exported by goroutines.errors)
    accel.py     the C accelerator, if built (the ports replace Python twins)
    events.py    the event layer: what goroutines do, for the tracer (hook)
    clock.py     now(): the runtime's clock, replaceable (a test clock)
    g.py         G, the goroutine; its states and wait reasons; allgs
    waiter.py    Waiter (Go's sudog) and the park token; proc installs ready/park
    timers.py    each P's timer heap
    dump.py      the goroutine dump (SIGQUIT, Deadlock)
    sched.py     this module: P, TLS, getp, _sched_lock, attention, pending panics
    exit.py      parking the other Ps at interpreter exit
    panic.py     panics and signals, delivered to goroutine 1
    netpoll.py   goroutines waiting for file descriptors; a P's idle wait
    deadlock.py  "all goroutines are asleep", foreign threads parked in the runtime
    kill.py      killing run()'s leftover goroutines, each on its P's thread
    proc.py      go / ready / park / workers / find-runnable / idle / run / kill
    sysmon.py    the monitor thread: preemption requests, hand-off, stuck threads
    preempt.py   switching out a goroutine that ran too long (sys.monitoring)
    fork.py      the child of a fork keeps the forking goroutine only
    blocking.py  blocking(): calls on helper threads

Import order (a module imports only modules listed before it; ``_runtime``
imports nothing above it): errors, accel, events, clock, g, waiter, timers, dump, sched, exit,
panic, netpoll, deadlock, kill, proc, sysmon, preempt, fork, blocking. One late import breaks the
order on purpose: getp's first use on a thread attaches it (proc.attach).

A P (processor) is the scheduler of one OS thread. The main thread's own code is
goroutine 1 and its P runs the other goroutines whenever goroutine 1 parks. A
background thread with a P of its own is started lazily for goroutines created
by foreign threads (plain threads, asyncio loops). Every other thread is
foreign: its blocking calls block it as a thread (ThreadWaiter). See proc.py
for the run order and why there is no hub greenlet.

Lock order. A thread may take a lock only while it holds none listed below
it; park tokens are only ever won with acquire(False), which never waits, so
they may be won under any lock:

    1. a primitive's lock  Chan._lock, the sync primitives', a context's,
                           Timer._func_lock: never held across a park, never
                           while calling Waiter.wake() (do not ready a G
                           under it) - except a context's lock, held while
                           its done channel is closed (close wakes its
                           receivers; the channel's lock is taken under it)
    2. proc._bg_lock       starting the background P, also from under a
                           channel lock (a timer channel's receiver without
                           a P); the new P's thread takes _sched_lock while
                           the starter waits, so never under _sched_lock
    3. p.timer_lock        p.timers, p.ntimers (timers.py)
    4. _sched_lock         every P's .idle; _all_ps, _foreign_threads,
                           _parked_threads, _blocking_calls (here); held
                           only for bookkeeping and deadlock detection: no
                           park, no ready, no wake-up under it
    5. leaves, never held while taking another lock of this table:
       blocking._pool_lock (the helper pool), blocking._spawn_lock (starting
       a helper), g._ids_lock (resetting goroutine ids), _p_ids_lock
       (numbering Ps), sysmon._wake (its condition), exit._exit_cond
       (the Ps parked for exit; taken after _sched_lock is released)

Invariants of this module's state:
  * attention is True whenever a panic or SIGINT is pending (_set_attention).
  * tls.p is this thread's P (None on a foreign thread); set_p keeps the
    accelerator's copy equal to it.
  * A started G never leaves its P (greenlets cannot cross threads).
"""

from __future__ import annotations

import os
import selectors
import signal
import sys
import threading
from _thread import get_ident
from collections import deque
from typing import Any

from . import accel, events
from .errors import throw
from .g import G
from .waiter import ThreadWaiter, new_lock

# The accelerator while its port "sched" is on (accel.py), else None.
speedups: Any = accel.port("sched")

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
    run_loop: Any = None  # the asyncio loop run() was called from (see proc.go)
    helper: bool = False  # a blocking() helper thread, or sysmon (never a waker by itself)


# This thread's runtime state. Read directly (one thread-local load) by the
# per-operation code of the modules above: ``tls.p`` is this thread's P.
tls = _TLS()
events.register_tls(tls)  # the event recorder's twin reads tls.p


def set_p(p: P | None) -> None:
    """Bind p to this thread (None: unbind): tls.p, and the accelerator's copy."""
    tls.p = p
    if speedups is not None:
        speedups.set_p(p)


# _sched_lock protects: every P's .idle, _all_ps, _foreign_threads,
# _parked_threads, _blocking_calls.
_sched_lock = threading.Lock()
_all_ps: list[P] = []
_foreign_threads: dict[int, threading.Thread] = {}
_parked_threads: dict[int, ThreadWaiter] = {}
_blocking_calls = 0  # blocking() calls queued or in flight (blocking.py)

_main_g: G | None = None  # goroutine 1
_main_ident = threading.main_thread().ident
# The main module has ended (the interpreter waits for non-daemon threads,
# then exits): the main thread is no waker any more, and the goroutines of
# its P, abandoned, never run again. Set by deadlock._on_main_end.
_main_ended = False
# The main thread's ident while it is foreign only because it first used the
# runtime from a running asyncio loop, else 0. Once no loop runs there (after
# asyncio.run() returned), its next use makes it goroutine 1, as a first use
# would have.
_loop_main = 0

# attention: something waits to be delivered to goroutine 1 (a panic, a
# SIGINT). Checked by every public entry point with one global load. Set it
# with _set_attention. The C accelerator reads it from this module's dict.
attention = False
# The dicts of the core modules whose per-operation code reads attention as a
# global of their own (proc, netpoll: one global load, as before the split);
# _set_attention stores it there too.
_attention_mirrors: list[dict[str, Any]] = []


def _set_attention(value: bool) -> None:
    """attention = value: the only way attention is written.

    Invariant: attention is True whenever a panic or a SIGINT is pending.
    Every producer records its exception (_pending_panic, _sigint_pending)
    and only then calls _set_attention(True). Lowering re-reads both after
    storing False (here and in every mirror), so a producer that ran in
    between - another thread, or a signal handler, which CPython may run
    between any two bytecodes, also between the evaluation of a caller's
    argument and this call's first line - is never overwritten: either its
    record is seen here and True is stored again, or its own
    _set_attention(True) comes after our stores.
    On the accelerated path the store is speedups.set_attention, which writes
    attention and the accelerator's hint of it in one C call (see
    is_attention in _speedups/sched.c for why they must not be two steps).
    """
    global attention
    if speedups is not None:
        speedups.set_attention(value)
    else:
        attention = value
    for d in _attention_mirrors:
        d["attention"] = value
    if not value and (_sigint_pending or _pending_panic is not None):
        _set_attention(True)


# Pending panic flags (panic.py reads and writes them).
_pending_panic: BaseException | None = None
_panic_in_flight = False  # a panic was raised and not yet delivered/reported
_sigint_pending = False


class P:
    """A processor: the scheduler state of one OS thread.

    Fields grouped by who may touch them (Go's runtime2.go does the same).
    """

    __slots__ = (
        "curg",
        "free_workers",
        "g0",
        "g1",
        "home",
        "id",
        "ident",
        "idle",
        "in_run",
        "inbound",
        "io_waiters",
        "kill_req",
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
        "stuck",
        "native_id",
        "timer_lock",
        "timerq",
        "timers",
        "wake_r",
        "wake_w",
    )

    def __init__(self) -> None:
        # -- Any thread, under the GIL (no lock) ------------------------------
        # The P's thread; set once (and again in a forked child).
        self.ident = get_ident()
        self.native_id = threading.get_native_id()  # the kernel's id (sysmon reads /proc)
        # P0 is goroutine 1's; the others are numbered as they start.
        self.id = next_p_id()
        # Set by run() (another thread) to ask this P's thread to kill its
        # goroutines: an Event the P sets when it has (see kill._kill_here).
        self.kill_req: threading.Event | None = None
        # Written by sysmon only: (since, in_c, schedtick) while this P's
        # running G has held the thread past the block-report threshold with
        # other work waiting, else None (the dump; stale once schedtick moved).
        self.stuck: tuple[float, bool, int] | None = None
        # Gs readied by other threads (after winning the G's park token):
        # others append, only this P's thread pops. The only queue another
        # thread touches.
        self.inbound: deque[G] = deque()
        # Written by this P's thread only: True from just before its last look
        # at inbound and the timers until its idle wait returns; read by other
        # threads to decide whether to write wake_w. Set before that last look,
        # so a wake-up is never lost.
        self.sleeping = False
        # -- Under p.timer_lock (any thread: timers.py) -------------------------
        self.timers: list[Any] = []
        self.timer_lock = new_lock()  # guards timers, ntimers
        self.ntimers = 0
        # -- Under _sched_lock (any thread) -------------------------------------
        # True only while this P sleeps in its selector with nothing runnable.
        self.idle = False
        # -- This P's own thread only ---------------------------------------------
        # Runnable Gs of this P: runnext (the G the running one just readied),
        # timerq, runq (FIFO). curg is RUNNING.
        self.runnext: G | None = None
        self.runq: deque[G] = deque()
        # Gs woken by their timers (sleep): served before the run queue, but
        # every 8th pick goes to the run queue, so neither can starve the
        # other. Behind thousands of goroutines not yet started, a sleeper's
        # wake-up would otherwise be late by the whole queue.
        self.timerq: deque[G] = deque()
        # The running G. None only on the background P before its first G.
        self.curg: G = None  # type: ignore[assignment]
        self.g1: G | None = None
        self.home: Any = None  # greenlet that parents this P's workers
        self.g0: Any = None  # greenlet that starts new workers (see proc._switch_to)
        self.free_workers: list[Any] = []
        self.schedtick = 0
        self.streak = 0
        self.killing = False
        self.in_run = False
        self.nio = 0  # goroutines parked in wait_readable/wait_writable
        self.io_waiters: dict[int, list[Any]] = {}
        self.saved_sigint: Any = None
        self.saved_sigquit: Any = None
        # selector and wake_r: this thread; wake_w: written by any thread
        # (wakeup(), signal handlers included).
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


_p_ids = 0
_p_ids_lock = threading.Lock()  # guards _p_ids (a leaf of the lock order)


def next_p_id() -> int:
    """The next P's number: 1, 2, ... (goroutine 1's P is P0, see proc)."""
    global _p_ids
    with _p_ids_lock:
        _p_ids += 1
        return _p_ids


def default_procs() -> int:
    """GOMAXPROCS from the environment, else the number of CPUs the process
    may run on: its affinity mask's (taskset, a container's cpuset), as Go
    counts them, where the platform has one; else the CPU count."""
    env = os.environ.get("GOMAXPROCS", "")
    if env.isdigit() and int(env) >= 1:
        return int(env)
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity masks here (macOS, Windows)
        return os.cpu_count() or 1


# How many Ps may run goroutines (max_procs). Read by sysmon when it hands
# work off; written by max_procs (any thread, one store).
procs = default_procs()


def block_async_signals() -> None:
    """Block, on the calling thread, the signals the kernel may hand to any
    thread of the process. For the runtime's own threads (sysmon, the
    background and hand-off Ps, the blocking() helpers): Python runs signal
    handlers on the main thread only, and a signal the kernel hands to
    another thread (it does when the main thread already has one pending)
    only sets a flag there - a main thread asleep in its poller would not
    see it until something else woke it. Blocked here, such signals go to
    the main thread (or to a thread of the program's own). Signals a fault
    raises (SIGSEGV, SIGBUS, SIGFPE, SIGILL, ...) are thread-directed and
    left alone."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        return
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, _ASYNC_SIGNALS)
    except (OSError, ValueError):  # pragma: no cover
        pass


_ASYNC_SIGNALS = {
    s
    for s in (
        getattr(signal, name, None)
        for name in (
            "SIGINT",
            "SIGTERM",
            "SIGQUIT",
            "SIGHUP",
            "SIGUSR1",
            "SIGUSR2",
            "SIGALRM",
            "SIGCHLD",
            "SIGWINCH",
            "SIGPROF",
            "SIGVTALRM",
            "SIGIO",
            "SIGURG",
            "SIGXCPU",
            "SIGCONT",
            "SIGTSTP",
            "SIGTTIN",
            "SIGTTOU",
        )
    )
    if s is not None
}


# ---------------------------------------------------------------------------
# This thread's P, and foreign threads


def getp() -> P | None:
    """This thread's P; on first use by the main thread (or its first use
    after the asyncio loop that made it foreign stopped), make it goroutine 1.

    Returns None on a foreign thread (and registers it as one).
    """
    p = tls.p
    if p is not None:
        return p
    if tls.foreign and not (_loop_main and _loop_main == get_ident() and not _asyncio_running()):
        return None
    # Late import, the one upward call of this module: attaching a thread
    # makes a P and its g0 and installs signal handlers (proc.py), which
    # import this module. Reached once per thread.
    from .proc import attach

    return attach()


def _asyncio_running() -> bool:
    aio = sys.modules.get("asyncio")
    return aio is not None and aio.events._get_running_loop() is not None


def _register_foreign() -> None:
    tls.foreign = True
    if tls.helper:
        # A blocking() helper is a possible waker only while it runs a call,
        # and _blocking_calls counts that; idle in the pool it wakes nobody
        # (and, made by _thread, it would look alive forever). sysmon runs
        # no program code but finalizers the garbage collector runs on its
        # thread: counted, it would hide every later deadlock.
        return
    ident = get_ident()
    with _sched_lock:
        _foreign_threads[ident] = threading.current_thread()


def note_foreign() -> None:
    """A foreign thread uses the runtime: count it as a possible waker."""
    if not tls.foreign:
        _register_foreign()


def note_use() -> None:
    """A thread without a P used the runtime in a way that does not block
    (a send into a buffer, an unlock, a cancel...): count it as a possible
    waker from now on, as a thread that blocked in the runtime is
    (docs/api.md#deadlock-and-possible-wakers:
    a thread counts once it uses the runtime). Without this a daemon thread
    whose use never blocks counted only for its first NEW_THREAD_GRACE
    seconds, and the goroutine it would wake next got a false Deadlock.

    Callers test ``tls.p is None and not tls.foreign`` first (the P they
    read anyway, or one thread-local load), so a goroutine's operation and a
    registered thread's pay nothing more; the accelerator's ports call this
    for every caller without a P. The main thread is left as it is: until its
    first blocking call makes it goroutine 1 it counts while alive (a
    non-daemon thread that has not used the runtime), and registering it as
    foreign would keep it from becoming goroutine 1.
    """
    if tls.p is None and not tls.foreign and get_ident() != threading.main_thread().ident:
        _register_foreign()


__all__ = [
    "FOREIGN_POLL",
    "MAX_FREE_WORKERS",
    "MAX_POLL",
    "RUNNEXT_STREAK",
    "TIMER_CHECK_MASK",
    "P",
    "attention",
    "block_async_signals",
    "getp",
    "note_foreign",
    "note_use",
    "set_p",
    "throw",
    "tls",
]
