"""Panics and signals: delivered to goroutine 1.

A panic (an exception escaping a goroutine) is recorded in
sched._pending_panic and delivered to goroutine 1: thrown into it where it
parks (proc._attend), raised at its next runtime call (check_attention), or
held for the main thread until it first uses the runtime and so becomes
goroutine 1. With nobody to deliver to, the panic is printed and the
process exits 2, as Go's does. SIGINT is recorded the same way
(sched._sigint_pending) unless goroutine 1 runs its own code, where it is
raised at once; SIGQUIT dumps every goroutine.

Invariants: a pending panic or SIGINT is recorded before attention is raised
(sched._set_attention); the decision to hold a panic is taken under
_sched_lock (see _panic); the handlers here only record, raise in
goroutine 1's own code, or write a P's wake-up pipe.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import sysconfig
import threading
import time
import traceback
from _thread import get_ident
from types import FrameType
from typing import NoReturn

from greenlet import GreenletExit, getcurrent

from . import exit as _exit
from . import sched as _sched
from .dump import _frame_lines as _dump_frame_lines
from .dump import current_frames, dump
from .errors import GoroutinePanic
from .g import DEAD, RUNNING, G
from .sched import P, _set_attention, getp, tls


def _panic(g: G, e: BaseException) -> None:
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
    if _sched._panic_in_flight:
        _print_panic(e, g, "while an earlier panic is pending")
        return
    # Delivered to goroutine 1, or held for the main thread, goroutine 1 to
    # be (check_attention makes it goroutine 1 at its first runtime call).
    # Decided under _sched_lock, which the main thread also holds when it
    # turns out foreign (an asyncio loop: _attach): either it sees this panic
    # held and ends the program, or this sees it foreign.
    with _sched._sched_lock:
        g1 = _goroutine1()
        held = g1 is not None or _main_thread_may_attach()
        if held:
            _sched._panic_in_flight = True
            _sched._pending_panic = exc
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
    p = tls.p
    assert p is not None and p.curg is not None
    _panic(p.curg, e)


def _goroutine1() -> G | None:
    """The goroutine a panic is delivered to, or None."""
    g1 = _sched._main_g
    if g1 is None or g1.state == DEAD:
        return None
    if _sched._main_ended and g1.p is not None and g1.p.ident == _sched._main_ident:
        return None  # its code has ended: nobody left to meet a panic
    return g1


def _main_thread_may_attach() -> bool:
    """The main thread has not used the runtime yet, and may: it would become
    goroutine 1. Not a thread running an asyncio loop (foreign), not once
    the main module has ended."""
    main_ident = _sched._main_ident
    if _sched._main_ended or main_ident is None or main_ident in _sched._foreign_threads:
        return False
    if any(p.ident == main_ident for p in _sched._all_ps):
        return False
    return threading.main_thread().is_alive()


def _held_for_main_thread() -> bool:
    """A panic waits for a main thread that has not used the runtime yet."""
    return _sched._pending_panic is not None and _goroutine1() is None


def _exit_with_pending_panic() -> NoReturn:
    """Print the pending panic as Go does (SystemExit: exit with its code)."""
    exc = _sched._pending_panic
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
    if _sched._sigint_pending:
        _sched._sigint_pending = False
        _set_attention(_sched._pending_panic is not None or _exit._exiting)
        return KeyboardInterrupt()
    exc = _sched._pending_panic
    _sched._pending_panic = None
    _sched._panic_in_flight = False
    _set_attention(_sched._sigint_pending or _exit._exiting)
    return exc


def check_attention() -> None:
    """At a public entry point: raise what waits for goroutine 1, if we are it.

    The main thread at its first runtime call becomes goroutine 1 here, to
    get a panic held for it (see _panic)."""
    p = tls.p
    if _exit._exiting and p is not None:
        _exit._park_if_exiting(p)  # a runtime call is a schedule point at exit
    if (
        p is None
        and _held_for_main_thread()
        and not tls.foreign
        and get_ident() == _sched._main_ident
    ):
        p = getp()
        if p is None and not _main_thread_may_attach():
            _exit_with_pending_panic()  # it turned out foreign (an asyncio loop)
    if p is None or p.curg is not _sched._main_g or _sched._main_g is None:
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
    global _sigint_since
    g1 = _sched._main_g
    if (
        g1 is not None
        and g1.state == RUNNING
        and getcurrent() is g1.greenlet
        and not _in_runtime(frame)
    ):
        raise KeyboardInterrupt
    if not _sched._sigint_pending:
        _sigint_since = time.monotonic()  # before the flag: sigint_watch reads both
    _sched._sigint_pending = True
    _set_attention(True)
    if g1 is not None and g1.p is not None:
        g1.p.wakeup()


# Ctrl-C is never silently ignored. A SIGINT recorded for goroutine 1 reaches
# it at its next schedule point or runtime call; a goroutine that holds goroutine
# 1's thread (a long C call such as time.sleep, or a loop that is not
# preempted) delays it. The monitor thread calls sigint_watch every few
# milliseconds: a SIGINT still pending after SIGINT_GRACE seconds ends the
# process as Python's default handling of an uncaught SIGINT does (killed by
# SIGINT, status 130 in a shell), after saying which goroutine held the thread
# and where. No finally block runs: the goroutine holding the thread cannot be
# interrupted, and goroutine 1 cannot run.
SIGINT_GRACE = 1.0
_sigint_since = 0.0  # time.monotonic() when the pending SIGINT was recorded


def sigint_watch(now: float) -> None:
    """Escalate a SIGINT that has not reached goroutine 1 within
    SIGINT_GRACE seconds (now: time.monotonic(), read by the caller).

    Called by the monitor thread, never by a P's thread. Does nothing while a
    program's own SIGINT handler (goroutines.context.notify_context, or any
    other) is installed: SIGINT is then the program's, and never pending here.
    """
    if not _sched._sigint_pending:
        return
    since = _sigint_since
    if since == 0.0 or now - since < SIGINT_GRACE:
        return
    if signal.getsignal(signal.SIGINT) is not _on_sigint:
        return
    g1 = _sched._main_g
    p = g1.p if g1 is not None else None
    holder = p.curg if p is not None else None
    if holder is None:
        who = "goroutine ? [?]"
    else:
        who = f"goroutine {holder.id} [{holder.name}]"
    frame = current_frames().get(p.ident) if p is not None else None
    text = f"goroutines: SIGINT not delivered: {who} holds the thread\n"
    text += "".join(line + "\n" for line in _dump_frame_lines(frame))
    if not _sched._sigint_pending:
        return  # delivered meanwhile
    _die_of_sigint(text)


def _die_of_sigint(text: str) -> NoReturn:
    """Print text, flush stdio, and end the process with SIGINT's default
    action, from any thread (signal.signal works on the main thread only, so
    the disposition is reset through the C library)."""
    try:
        try:
            sys.stdout.flush()
        except Exception:
            pass
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except Exception:
            pass
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.signal.restype = ctypes.c_void_p
            libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
            libc.signal(int(signal.SIGINT), None)  # SIG_DFL
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1.0)  # the signal ends the process meanwhile
        except Exception:
            pass
    finally:
        os._exit(128 + int(signal.SIGINT))


def _on_sigquit(signum: int, frame: FrameType | None) -> None:
    try:
        text = "SIGQUIT: quit\n\n" + dump() + "\n"
        exc = _sched._pending_panic
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


def sigint_handler_to_restore(prev: object) -> object:
    """The SIGINT handler to put back where a program's own handler
    (goroutines.context.notify_context) had replaced prev: the runtime's
    while run() holds a P on the main thread and prev is Python's default
    (the runtime would have installed its own then), Python's default if prev
    is the runtime's but no P owns it any more; else prev. Called from a
    signal handler too: takes no lock."""
    if prev is signal.default_int_handler:
        for p in list(_sched._all_ps):
            if p.g1 is not None and p.ident == _sched._main_ident and p.saved_sigint is None:
                p.saved_sigint = prev
                return _on_sigint
    elif prev is _on_sigint and all(p.saved_sigint is None for p in list(_sched._all_ps)):
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


@atexit.register
def _at_exit() -> None:
    # _on_main_end has done this, unless threading has no exit hook.
    if _sched._pending_panic is not None:
        _exit_with_pending_panic()


_install_sigquit_at_import()
