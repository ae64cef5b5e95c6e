"""sync.Cond (Go's sync/cond.go, its notifyList in runtime/sema.go).

Fields, guarded by ``_lock``: ``_ticket``, ``_notify``, ``_waitq``,
``_abandoned``. ``l`` is the caller's Locker, never taken while ``_lock`` is
held.

Invariants, whenever ``_lock`` is free:
  * tickets ``< _notify`` have been notified; ``_notify <= _ticket``;
  * ``_waitq`` holds the queued waiters in ticket order (``w.elem`` is the
    ticket), each with a ticket ``>= _notify``;
  * ``_abandoned`` holds tickets ``>= _notify`` whose waiters left without
    being notified (a signal skips them).

A waiter takes its ticket before it unlocks ``l``, so a signal between that
unlock and its park is not lost: it finds its ticket notified and does not
park.

Departures from Go, on purpose:
  * ``wait`` always reacquires ``c.l`` before it returns or raises (as
    Python's threading.Condition does), so ``with mu:`` around it stays sound.
  * A signal that lands on a waiter whose wait was interrupted goes to the
    next one.
"""

from __future__ import annotations

from collections import deque
from typing import final

from .._runtime import proc as _proc
from .._runtime import sched as _sched
from .._runtime.g import WAIT_COND
from .._runtime.waiter import Waiter, new_lock, new_token
from .common import wait_granted
from .mutex import Locker

_current_waiter = _proc.current_waiter
_tls = _sched.tls  # .p: this thread's P; None on a foreign thread (or before first use)


@final
class Cond:
    """A condition variable: goroutines wait for an event, under locker ``l``.

    ``wait()`` releases ``c.l``, blocks until woken (wait reason
    ``"sync.Cond.Wait"``), and reacquires ``c.l`` before returning (also when
    it raises). ``signal()`` wakes the goroutine that has waited longest;
    ``broadcast()`` wakes all. As in Go, a waiter should recheck its condition
    in a loop. Go: ``sync.NewCond(l)`` / ``sync.Cond``.
    """

    __slots__ = ("__weakref__", "_abandoned", "_lock", "_notify", "_ticket", "_waitq", "l")

    def __init__(self, locker: Locker) -> None:
        if not (
            callable(getattr(locker, "lock", None)) and callable(getattr(locker, "unlock", None))
        ):
            raise TypeError(
                f"locker must be a Locker (lock() and unlock()), got {type(locker).__name__}"
            )
        self.l = locker  # Go's c.L
        # Go's notifyList, guarded by _lock: a waiter takes a ticket before it
        # unlocks l, so a signal between its unlock and its park is not lost.
        self._lock = new_lock()
        self._ticket = 0  # next ticket to hand out
        self._notify = 0  # next ticket to notify
        self._waitq: deque[Waiter] = deque()  # w.elem is the ticket
        self._abandoned: set[int] = set()

    def wait(self) -> None:
        """Atomically unlock ``c.l`` and wait; relock ``c.l`` before returning.
        Go: ``c.Wait()``."""
        if _sched.attention:
            _proc.check_attention()
        lock = self._lock
        lock.acquire()
        t = self._ticket
        self._ticket = t + 1
        lock.release()
        try:
            self.l.unlock()
        except BaseException:
            self._abandon(t, None)
            raise
        try:
            w = _current_waiter(new_token())
            w.elem = t
            wait_granted(w, self._wait_or_enqueue, lambda w: self._abandon(t, w), WAIT_COND)
        finally:
            self.l.lock()

    def _wait_or_enqueue(self, w: Waiter) -> bool:
        """True if w's ticket (w.elem) was already notified; else queue w."""
        lock = self._lock
        lock.acquire()
        if w.elem < self._notify:
            lock.release()
            return True
        self._waitq.append(w)
        lock.release()
        return False

    def _abandon(self, t: int, w: Waiter | None) -> None:
        """Ticket t's wait ended in an exception."""
        if w is not None:
            w.token.acquire(False)
        lock = self._lock
        lock.acquire()
        woken: Waiter | None = None
        if w is not None and w.done:
            woken = self._signal_locked()  # we were signalled: pass it on
        else:
            if w is not None:
                try:
                    self._waitq.remove(w)
                except ValueError:
                    pass
            if t >= self._notify:
                self._abandoned.add(t)
        lock.release()
        if woken is not None:
            woken.wake()

    def signal(self) -> None:
        """Wake the goroutine that has waited longest, if any. Holding ``c.l``
        is allowed, not required. Go: ``c.Signal()``."""
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        # Fast path (as notifyListNotifyOne): no ticket handed out since the
        # last notification means nobody to wake. A waiter that takes a ticket
        # concurrently is not yet waiting, so missing it is allowed.
        if self._notify == self._ticket:
            return
        lock = self._lock
        lock.acquire()
        w = self._signal_locked()
        lock.release()
        if w is not None:
            w.wake()

    def _signal_locked(self) -> Waiter | None:
        while self._notify != self._ticket:
            t = self._notify
            self._notify = t + 1
            if t in self._abandoned:
                self._abandoned.discard(t)
                continue
            for w in self._waitq:
                if w.elem == t:
                    break
            else:
                return None  # not queued yet: it will find its ticket notified
            self._waitq.remove(w)
            if w.token.acquire(False):
                w.done = True
                return w
            # Its wait was interrupted: the signal goes to the next ticket.
        return None

    def broadcast(self) -> None:
        """Wake every waiting goroutine. Go: ``c.Broadcast()``."""
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        if self._notify == self._ticket:
            return
        lock = self._lock
        lock.acquire()
        self._notify = self._ticket
        self._abandoned.clear()
        woken: list[Waiter] = []
        for w in self._waitq:
            if w.token.acquire(False):
                w.done = True
                woken.append(w)
        self._waitq.clear()
        lock.release()
        for w in woken:
            w.wake()

    def __repr__(self) -> str:
        return f"<Cond waiters={len(self._waitq)} l={self.l!r} at {id(self):#x}>"


__all__ = ["Cond"]
