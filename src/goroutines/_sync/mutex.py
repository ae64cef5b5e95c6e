"""sync.Mutex (Go's sync/mutex.go) and the Locker protocol.

Fields, all guarded by ``_lock`` (the Mutex's own lock; never held across a
park, see ``_sync/__init__.py``): ``_locked``, ``_starving``, ``_woken``,
``_waitq``.

Invariants, whenever ``_lock`` is free:
  * ``_starving`` implies ``_locked``: in starvation mode the mutex passes
    from owner to waiter without ever being free.
  * ``_woken`` is True while exactly one waiter has been woken to compete
    and has not come back.
  * A queued waiter's ``w.elem`` is when its owner first queued (monotonic
    seconds); ``w.value`` says how it was woken (_WOKEN or _HANDOFF).

Fairness follows Go: in normal mode a woken waiter competes with newcomers
and, losing, queues again at the front; a waiter that has waited over
STARVATION_THRESHOLD switches the mutex to starvation mode, where unlock
hands it straight to the oldest waiter. A Waiter is parked at most once (an
AsyncWaiter cannot be reused): a waiter woken to compete that loses queues
again with a fresh one. The waits are measured on ``time.monotonic()``, not
the runtime's clock (goroutines.now()), as Go's mutex reads nanotime(): a
fake clock must not change its fairness.

Departures from Go, on purpose:
  * No spinning: a goroutine that finds the Mutex locked queues at once.
  * Unlocking an unlocked mutex raises RuntimeError("sync: unlock of
    unlocked mutex") instead of a fatal error, and changes nothing.
"""

from __future__ import annotations

from collections import deque
from time import monotonic
from typing import Final, Protocol, final

from .._runtime import proc as _proc
from .._runtime import sched as _sched
from .._runtime.g import WAIT_MUTEX
from .._runtime.waiter import Waiter, new_lock, new_token
from .common import spurious

_current_waiter = _proc.current_waiter
_tls = _sched.tls  # .p: this thread's P; None on a foreign thread (or before first use)


class Locker(Protocol):
    """Anything with ``lock()`` and ``unlock()``: Mutex, RWMutex, ``rw.rlocker()``.
    Go: ``sync.Locker``."""

    def lock(self) -> None: ...
    def unlock(self) -> None: ...


# Mirrors sync/mutex.go starvationThresholdNs: a waiter that has waited this
# long switches the mutex to starvation mode.
STARVATION_THRESHOLD: Final = 1e-3

_WOKEN: Final = 1  # w.value: woken to compete for the mutex (normal mode)
_HANDOFF: Final = 2  # w.value: the mutex was handed over (starvation mode)


@final
class Mutex:
    """A mutual exclusion lock, usable from goroutines and OS threads alike.

    ``lock()`` blocks until the mutex is free (wait reason ``"sync.Mutex.Lock"``).
    It is not tied to a goroutine: any goroutine or thread may unlock it. It is
    not reentrant: locking a Mutex you hold blocks (a Deadlock if nothing else
    can run). Fairness follows Go: in normal mode a woken waiter competes with
    newcomers; a waiter that has waited over 1 ms switches the mutex to
    starvation mode, where unlock hands it straight to the oldest waiter.
    ``with mu:`` locks and unlocks. Go: ``sync.Mutex``.
    """

    __slots__ = ("__weakref__", "_lock", "_locked", "_starving", "_waitq", "_woken")

    def __init__(self) -> None:
        self._lock = new_lock()  # guards the four fields below
        self._locked = False
        self._starving = False
        self._woken = False
        # Waiters; w.elem is when its owner first queued, w.value how it was woken.
        self._waitq: deque[Waiter] = deque()

    def lock(self) -> None:
        """Lock the mutex, blocking until it is free. Go: ``mu.Lock()``."""
        if _tls.p is None:
            _sched.getp()  # a foreign thread: count it as a possible waker
        if _sched.attention:
            _proc.check_attention()
        lock = self._lock
        lock.acquire()
        if not self._locked:
            self._locked = True
            lock.release()
            return
        lock.release()
        self._lock_slow(WAIT_MUTEX)

    def _lock_slow(self, reason: str) -> None:
        w = _current_waiter(new_token())
        while not self._lock_or_enqueue(w):
            try:
                w.park(reason)
            except BaseException:
                self._abandon(w)
                raise
            if w.value == _HANDOFF:
                return
            if not w.done:
                raise spurious("sync.Mutex.Lock")
            # Woken to compete: another round with a fresh waiter (an
            # AsyncWaiter cannot be parked twice), keeping when it first queued.
            start = w.elem
            w = _current_waiter(new_token())
            w.elem = start

    def _lock_or_enqueue(self, w: Waiter) -> bool:
        """One round of Go's lockSlow: take the mutex if it is free, else queue w.

        Returns True if the mutex is now held by w's owner. ``w.elem`` is None
        on the first round; a waiter back from a wake-up (w.elem set) queues at
        the front (Go's queueLifo) and, if it has waited over 1 ms, switches the
        mutex to starvation mode.
        """
        lock = self._lock
        lock.acquire()
        start = w.elem
        if start is not None:
            self._woken = False  # the woken waiter is back
        if not self._locked:
            self._locked = True
            lock.release()
            return True
        if start is None:
            w.elem = monotonic()
            self._waitq.append(w)
        else:
            if monotonic() - start > STARVATION_THRESHOLD:
                self._starving = True
            self._waitq.appendleft(w)
        lock.release()
        return False

    def try_lock(self) -> bool:
        """Lock the mutex if it is free (never in starvation mode, where the
        oldest waiter comes first); returns whether it did. Go: ``mu.TryLock()``."""
        if _tls.p is None:
            _sched.getp()  # a foreign thread: count it as a possible waker
        lock = self._lock
        if lock._is_owned():
            return False  # a finalizer in the middle of this mutex's own code: busy
        lock.acquire()
        if self._locked:
            lock.release()
            return False
        self._locked = True
        lock.release()
        return True

    def unlock(self) -> None:
        """Unlock the mutex; never blocks. Raises RuntimeError("sync: unlock of
        unlocked mutex") if it is not locked. Go: ``mu.Unlock()``."""
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        lock = self._lock
        lock.acquire()
        if not self._locked:
            lock.release()
            raise RuntimeError("sync: unlock of unlocked mutex")
        if not self._waitq:
            self._locked = False
            self._starving = False
            lock.release()
            return
        w = self._unlock_locked()
        lock.release()
        if w is not None:
            w.wake()

    def _unlock_locked(self) -> Waiter | None:
        """Go's unlockSlow: the mutex is locked and self._lock held. Returns
        the waiter to wake after releasing self._lock, if any."""
        q = self._waitq
        if self._starving:
            # Hand-off: ownership passes to the oldest waiter; _locked stays True.
            while q:
                w = q.popleft()
                if w.token.acquire(False):
                    w.value = _HANDOFF
                    w.done = True
                    # Mirrors mutex.go: the new owner ends starvation mode if it
                    # is the last waiter or has waited under the threshold.
                    if not q or monotonic() - w.elem < STARVATION_THRESHOLD:
                        self._starving = False
                    return w
            self._starving = False
        self._locked = False
        if self._woken:
            return None  # a woken waiter is already on its way
        return self._wake_one_locked()

    def _wake_one_locked(self) -> Waiter | None:
        q = self._waitq
        while q:
            w = q.popleft()
            if w.token.acquire(False):
                w.value = _WOKEN
                w.done = True
                self._woken = True
                return w
        return None

    def _abandon(self, w: Waiter) -> None:
        """w's park raised: leave the queue, or give back what a waker granted."""
        w.token.acquire(False)
        lock = self._lock
        lock.acquire()
        woken: Waiter | None = None
        if w.done:
            if w.value == _HANDOFF:
                woken = self._unlock_locked()  # we own the mutex: unlock it
            else:
                self._woken = False
                if not self._locked:
                    woken = self._wake_one_locked()
        else:
            try:
                self._waitq.remove(w)
            except ValueError:
                pass
        lock.release()
        if woken is not None:
            woken.wake()

    __enter__ = lock  # one call less than a method that calls lock()

    def __exit__(self, *exc: object) -> None:
        self.unlock()

    def __repr__(self) -> str:
        state = "locked" if self._locked else "unlocked"
        if self._starving:
            state += " starving"
        return f"<Mutex {state} waiters={len(self._waitq)} at {id(self):#x}>"


__all__ = ["STARVATION_THRESHOLD", "Locker", "Mutex"]
