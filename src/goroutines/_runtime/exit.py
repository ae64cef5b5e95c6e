"""Interpreter exit: the Ps of other threads park for good before finalization.

Invariants: _exiting only goes from False to True (at exit); once it is True,
attention is True too, so every schedule point takes its slow path and parks
its P here (_park_if_exiting). _exit_cond (last in the lock order, see
sched.py) guards _exit_parked and is never held with another lock.
"""

from __future__ import annotations

import atexit
import dis
import os
import signal
import sys
import threading
import time
from _thread import allocate_lock, get_ident
from time import monotonic
from typing import Any, NoReturn

from . import sched as _sched
from .dump import current_frames
from .g import RUNNING
from .sched import P, _set_attention

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
# EXIT_PARK_LIMIT is for threads asleep in a call (less than EXIT_PARK_ASLEEP
# of CPU meanwhile). One that runs, slowly (a machine with ten times more
# runnable threads than CPUs gives it a slice now and then), is waited for
# until it has used EXIT_PARK_WAIT of CPU, or EXIT_PARK_LOADED in all.
EXIT_PARK_WAIT = 0.1
EXIT_PARK_LIMIT = 0.5
EXIT_PARK_ASLEEP = 0.005
EXIT_PARK_LOADED = 5.0
_exiting = False
_exit_cond = threading.Condition(threading.Lock())  # guards _exit_parked
_exit_parked: set[P] = set()


def _park_if_exiting(p: P) -> None:
    """At a schedule point while exiting: park p's thread for good, unless
    it is the main thread (which runs the exit)."""
    if _exiting and get_ident() != _sched._main_ident:
        _park_for_exit(p)


def _park_for_exit(p: P) -> NoReturn:
    try:
        # A signal handled on this thread would make the lock wait below
        # take the GIL back (to run pending calls) during finalization.
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        pass
    forever = allocate_lock()
    forever.acquire()
    with _exit_cond:
        _exit_parked.add(p)
        _exit_cond.notify_all()
    _block_forever(forever)
    raise AssertionError("unreachable")  # pragma: no cover


def _block_forever(lock: Any) -> None:
    # Nothing but this call (see _safe_at_exit): from its first instruction to
    # the wait inside acquire() the thread holds the GIL without an
    # eval-breaker check, so another thread can only see this frame at this
    # line once the thread waits without the GIL.
    lock.acquire()


# The line of _block_forever's call: a thread whose frame is there waits.
_BLOCKED_LINE = next(
    i.positions.lineno
    for i in dis.get_instructions(_block_forever)
    if i.opname == "CALL" and i.positions is not None
)


def _safe_at_exit(p: P) -> bool:
    """p's thread may be stopped by the interpreter: parked, or running its
    own code in its own greenlet (goroutine 1 of a run() on a daemon thread;
    it parks for exit as soon as it switches to another goroutine).

    Parked means waiting for good without the GIL, not just in _exit_parked:
    a thread that had added itself but not yet reached its wait would take
    the GIL back during finalization, and CPython stops such a thread where it
    is, inside its greenlet (SIGSEGV, 1 exit in ~300 on a loaded machine)."""
    frame = current_frames().get(p.ident)
    if frame is None:
        return True  # a thread that has ended cannot be stopped
    if p in _exit_parked:
        return frame.f_code is _block_forever.__code__ and frame.f_lineno == _BLOCKED_LINE
    g1 = p.g1
    return g1 is not None and p.curg is g1 and g1.state == RUNNING


@atexit.register
def _stop_ps_for_exit() -> None:
    global _exiting
    with _sched._sched_lock:
        others = [p for p in _sched._all_ps if p.ident != _sched._main_ident]
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
            if _give_up(monotonic() - start, [_thread_cpu(p) - cpu0[p] for p in busy]):
                _exit_without_finalizing(busy)
            _exit_cond.wait(0.01)


def _give_up(waited: float, used: list[float]) -> bool:
    """Whether to stop waiting for the busy Ps to park at exit, after waited
    seconds in which their threads used `used` seconds of CPU each."""
    if waited >= EXIT_PARK_LOADED:
        return True
    if waited >= EXIT_PARK_WAIT and any(u >= EXIT_PARK_WAIT for u in used):
        return True  # computing without schedule points
    return waited >= EXIT_PARK_LIMIT and all(u < EXIT_PARK_ASLEEP for u in used)


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
