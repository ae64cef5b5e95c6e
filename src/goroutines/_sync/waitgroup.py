"""sync.WaitGroup (Go's sync/waitgroup.go).

Fields, guarded by ``_lock``: ``_count`` and ``_waiters``.

Invariants, whenever ``_lock`` is free:
  * ``_count >= 0``;
  * waiters are queued only while ``_count > 0``; the add() that brings it
    to zero wakes them all and empties the list.

A goroutine started by ``go`` that panics delivers its panic before its
done(): the waiter it wakes finds the panic pending, and wait() raises it in
goroutine 1 rather than returning as if the group had succeeded.

The C accelerator ports ``add`` and ``done`` (the block at the end of this
module); these methods stay the reference and handle what the ports leave.

Departures from Go, on purpose:
  * An add that would take the counter below zero raises
    RuntimeError("sync: negative WaitGroup counter") and changes nothing.
  * ``go`` runs ``done()`` in a ``finally`` (Go 1.25's ``defer wg.Done()``);
    an exception escaping ``fn`` still reaches goroutine 1 as a
    GoroutinePanic.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CoroutineType
from typing import Any, ParamSpec, final

from greenlet import GreenletExit

from .._go import _is_async, _reject
from .._runtime import accel as _accel
from .._runtime import preempt as _preempt
from .._runtime import proc as _proc
from .._runtime import sched as _sched
from .._runtime.g import WAIT_WAITGROUP
from .._runtime.waiter import Waiter, new_lock, new_token
from .common import check_int, spurious

P = ParamSpec("P")

_current_waiter = _proc.current_waiter
_tls = _sched.tls  # .p: this thread's P; None on a foreign thread (or before first use)


@final
class WaitGroup:
    """Waits for a collection of goroutines (or threads) to finish.

    ``add(n)`` adds to the counter, ``done()`` subtracts one, ``wait()`` blocks
    until it is zero (wait reason ``"sync.WaitGroup.Wait"``); reusable once
    wait has returned. ``go(fn, *args)`` adds one and runs fn in a goroutine
    that calls done() when fn returns. A counter that would go negative raises
    RuntimeError("sync: negative WaitGroup counter"). Go: ``sync.WaitGroup``.
    """

    __slots__ = ("__weakref__", "_count", "_lock", "_waiters")

    def __init__(self) -> None:
        self._lock = new_lock()  # guards the two fields below
        self._count = 0
        self._waiters: list[Waiter] = []

    def add(self, delta: int) -> None:
        """Add delta (may be negative) to the counter; at zero every waiter
        wakes. Raises RuntimeError("sync: negative WaitGroup counter") and
        changes nothing if the counter would go below zero. Go: ``wg.Add(delta)``."""
        if type(delta) is not int:
            delta = check_int(delta, "delta")
        if _tls.p is None:
            if delta > 0:
                _sched.getp()  # a foreign thread that will call done(): a possible waker
            elif not _tls.foreign:
                _sched.note_use()  # a foreign thread: count it as a possible waker
        lock = self._lock
        lock.acquire()
        n = self._count + delta
        if n < 0:
            lock.release()
            raise RuntimeError("sync: negative WaitGroup counter")
        self._count = n
        if n or not self._waiters:
            lock.release()
            return
        woken: list[Waiter] = []
        for w in self._waiters:
            if w.token.acquire(False):
                w.done = True
                woken.append(w)
        self._waiters = []
        lock.release()
        for w in woken:
            w.wake()

    def done(self) -> None:
        """Subtract one from the counter. Go: ``wg.Done()``."""
        # add(-1)'s common case inline (the counter stays above zero, nobody
        # to wake): done() ends nearly every goroutine of a WaitGroup.
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        lock = self._lock
        lock.acquire()
        n = self._count - 1
        if n > 0:
            self._count = n
            lock.release()
            return
        lock.release()
        self.add(-1)

    def wait(self) -> None:
        """Block until the counter is zero. Go: ``wg.Wait()``."""
        if _sched.attention:
            _proc.check_attention()
        lock = self._lock
        lock.acquire()
        if self._count == 0:
            lock.release()
            # The group may have ended since the look above, with a panic
            # (pending before its done(), see go): met here as after a park.
            if _sched.attention:
                _proc.check_attention()
            return
        lock.release()
        w = _current_waiter(new_token())
        if not self._wait_or_enqueue(w):
            try:
                w.park(WAIT_WAITGROUP)
            except BaseException:
                w.token.acquire(False)
                lock.acquire()
                try:
                    self._waiters.remove(w)
                except ValueError:
                    pass
                lock.release()
                raise
            if not w.done:
                raise spurious("sync.WaitGroup.Wait")
        # A goroutine of the group that panicked did so before its done()
        # (see go): goroutine 1 meets the panic here rather than going on
        # as if the group had succeeded. Nothing is lost by raising after
        # the wait completed.
        if _sched.attention:
            _proc.check_attention()

    def _wait_or_enqueue(self, w: Waiter) -> bool:
        """True if the counter is zero now; else queue w until it is."""
        lock = self._lock
        lock.acquire()
        if self._count == 0:
            lock.release()
            return True
        self._waiters.append(w)
        lock.release()
        return False

    def go(self, fn: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Add one to the counter and run ``fn(*args, **kwargs)`` in a new
        goroutine that calls done() when fn returns (also if it raises; the
        exception still reaches goroutine 1 as a panic). Go 1.25: ``wg.Go(f)``."""
        if not callable(fn) or _is_async(fn):
            _reject(fn)
        self.add(1)
        g = _proc.go(_run_and_done, (self, fn, args, kwargs), {}, 2)
        g.name = getattr(fn, "__qualname__", None) or repr(fn)

    def __repr__(self) -> str:
        return f"<WaitGroup count={self._count} waiters={len(self._waiters)} at {id(self):#x}>"


def _run_and_done(
    wg: WaitGroup, fn: Callable[..., object], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """WaitGroup.go's goroutine. A panic is delivered before done(): the
    waiter it wakes finds the panic pending (wait() raises it in goroutine 1)
    even when this goroutine runs on another thread."""
    p = _tls.p
    if p is not None:  # named here too: another thread's P may run it before go() names it
        p.curg.name = getattr(fn, "__qualname__", None) or repr(fn)
    try:
        r = fn(*args, **kwargs)
        if r is not None and r.__class__ is CoroutineType:
            raise _proc.coroutine_returned(getattr(fn, "__qualname__", repr(fn)), r)
    except GreenletExit:
        raise  # run() killing goroutines: silent
    except BaseException as e:
        _proc.panic_current(e)  # reported; the goroutine ends without it
    finally:
        wg.add(-1)


# A preemption may switch fn out with this frame below it (_runtime/preempt.py).
_preempt.register_callers(_run_and_done.__code__)

__all__ = ["WaitGroup"]


if _accel.port("waitgroup") is not None:
    # The accelerator's port "waitgroup" (accel.py): WaitGroup.add and done,
    # the common case in C, the methods above for the rest.
    _accel.wire(
        "waitgroup",
        WaitGroup,
        {"add": "wg_add", "done": "wg_done"},
        cls=WaitGroup,
        py_add=WaitGroup.add,
        py_done=WaitGroup.done,
    )
