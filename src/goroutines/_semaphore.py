"""Semaphore: a weighted semaphore (golang.org/x/sync/semaphore.Weighted).

Built like the primitives of the _sync package (read _sync/__init__.py):
state under ``self._lock``, blocking only through a Waiter. An acquire waits
on two wake sources at once, the semaphore and its context's done channel:
one Waiter in the semaphore's FIFO queue and a sibling, sharing its token, in
the done channel's receive queue (as select's pass 2 queues one waiter per
case), so exactly one of them wins.

Invariants, whenever s._lock is free:
  * 0 <= s._cur <= s._size.
  * s._waiters is FIFO; the head is served first, and a head that does not
    fit holds back everything behind it (semaphore.go notifyWaiters).
  * A queued Waiter whose token is won is stale (its context ended, or its
    park was interrupted): it is skipped and its owner removes it, then lets
    the next waiters in.
Lock order: s._lock is never held together with a channel's lock.
A foreign thread that acquires or releases units registers as a possible
waker (see the "Foreign threads" note in _sync/__init__.py).

Departures from Go, on purpose: a release of more than is held raises
RuntimeError("semaphore: released more than held") and changes nothing;
a negative size or weight raises ValueError and a ctx that is not a Context
TypeError (Go does not check).
"""

from __future__ import annotations

from collections import deque
from typing import Any, final

from ._chan import Chan, unwrap
from ._runtime import proc as _proc
from ._runtime import sched as _sched
from ._runtime.g import WAIT_CHAN_RECEIVE_NIL, WAIT_SEMACQUIRE
from ._runtime.waiter import Waiter, new_lock, new_token
from ._sync.common import check_int, spurious
from .context import Canceled, Context, _never_cancelled

_current_waiter = _proc.current_waiter
_tls = _sched.tls  # .p: this thread's P; None on a foreign thread (or before first use)


def _enqueue_done(ch: Chan[Any], w: Waiter) -> bool:
    """Queue w as a receiver on a context's done channel (as select's pass 2
    does). False if the channel is ready now (closed, or holding a value)."""
    lock = ch._lock
    lock.acquire()
    if ch._closed or ch._buf or any(not s.token.locked() for s in ch._sendq):
        lock.release()
        return False
    ch._recvq.append(w)
    timer = ch._timer
    if timer is not None:
        timer._block()
    lock.release()
    return True


def _dequeue_done(ch: Chan[Any], w: Waiter) -> None:
    """Take w off ch's receive queue (as select's pass 3 does)."""
    lock = ch._lock
    lock.acquire()
    try:
        ch._recvq.remove(w)
    except ValueError:
        pass
    lock.release()
    timer = ch._timer
    if timer is not None:
        timer._unblock()


def _done_ready(ch: Chan[Any]) -> bool:
    """Whether a receive from ch would not block (Go: select with default)."""
    if ch._closed:
        return True
    if not ch._buf and not ch._sendq and ch._timer is None:
        return False  # unlocked reads: a channel that is about to close counts as open
    return ch.try_recv()[2]


def _ctx_error(ctx: Context) -> BaseException:
    err = ctx.err()
    # A fresh traceback per raise: the instance is shared by every caller.
    return err.with_traceback(None) if err is not None else Canceled()


@final
class Semaphore:
    """A weighted semaphore of size n (x/sync/semaphore.Weighted).

    ``acquire(ctx, k)`` blocks until k units are free, served FIFO: a large
    request at the head holds back smaller ones behind it. If ctx ends first,
    or has already ended, it raises ``ctx.err()`` and leaves the semaphore
    unchanged; a request larger than n waits for ctx to end. Wait reason
    ``"semacquire"``. Go: ``semaphore.NewWeighted(n)``.
    """

    __slots__ = ("__weakref__", "_cur", "_lock", "_size", "_waiters")

    def __init__(self, n: int) -> None:
        n = check_int(n, "n")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        self._size = n
        self._lock = new_lock()  # guards the two fields below
        self._cur = 0  # units held
        self._waiters: deque[Waiter] = deque()  # w.elem is the weight asked for

    def acquire(self, ctx: Context, k: int = 1) -> None:
        """Acquire k units, blocking until they are free or ctx ends.

        Raises ``ctx.err()`` (Canceled or DeadlineExceeded) if ctx ends first
        or has already ended; the semaphore is then unchanged. Go:
        ``s.Acquire(ctx, n)``.
        """
        if _tls.p is None:
            _sched.getp()  # a foreign thread: count it as a possible waker
        if not isinstance(ctx, Context):
            raise TypeError(f"Semaphore.acquire: ctx must be a Context, got {type(ctx).__name__}")
        k = _check_weight(k)
        if _sched.attention:
            _proc.check_attention()
        done = ctx.done()
        # A context that is never cancelled has nothing to wait for.
        dch = None if _never_cancelled(done) else unwrap(done)
        # Mirrors semaphore.go: a context that ended before the call fails it,
        # even if the units are free.
        if dch is not None and _done_ready(dch):
            raise _ctx_error(ctx)
        lock = self._lock
        lock.acquire()
        if self._size - self._cur >= k and not self._waiters:
            self._cur += k
            lock.release()
            return
        lock.release()
        if k > self._size:
            # Don't make other acquires queue behind one that is doomed to fail.
            _wait_done(dch)
            raise _ctx_error(ctx)
        self._acquire_slow(ctx, dch, k)

    def _acquire_slow(self, ctx: Context, dch: Chan[Any] | None, k: int) -> None:
        token = new_token()
        w = _current_waiter(token)
        w.elem = k
        if self._acquire_or_enqueue(w):
            return
        # The context's done channel is a second wake source sharing w's
        # token, as in a select: exactly one of them wins.
        dw: Waiter | None = None
        if dch is not None:
            dw = w.sibling(token)
            if not _enqueue_done(dch, dw):
                dw = None
                if token.acquire(False):  # ended already: withdraw
                    self._abandon(w)
                    raise _ctx_error(ctx)
                # Else the semaphore granted us the units first: take the wake.
        try:
            w.park(WAIT_SEMACQUIRE)
        except BaseException:
            token.acquire(False)
            if dw is not None:
                _dequeue_done(dch, dw)  # type: ignore[arg-type]
            self._abandon(w)
            raise
        if dw is not None and not dw.done:
            _dequeue_done(dch, dw)  # type: ignore[arg-type]
        if w.done:
            # Mirrors semaphore.go: acquired, but if ctx has ended meanwhile,
            # put the units back and fail.
            if dch is not None and _done_ready(dch):
                self.release(k)
                raise _ctx_error(ctx)
            return
        if dw is not None and dw.done:
            self._abandon(w)
            raise _ctx_error(ctx)
        raise spurious("semacquire")

    def _acquire_or_enqueue(self, w: Waiter) -> bool:
        """Take w.elem units now (True) if they are free and nobody queues;
        else queue w (FIFO)."""
        k = w.elem
        lock = self._lock
        lock.acquire()
        if self._size - self._cur >= k and not self._waiters:
            self._cur += k
            lock.release()
            return True
        self._waiters.append(w)
        lock.release()
        return False

    def _abandon(self, w: Waiter) -> None:
        """w's wait ended without using a grant (its token is already won):
        leave the queue, or give back units granted to it. Others may then fit."""
        lock = self._lock
        lock.acquire()
        if w.done:
            self._cur -= w.elem
        else:
            try:
                self._waiters.remove(w)
            except ValueError:
                pass
        woken = self._grant_locked() if self._waiters else None
        lock.release()
        if woken:
            for x in woken:
                x.wake()

    def try_acquire(self, k: int = 1) -> bool:
        """Acquire k units without blocking; False if they are not free (or
        others wait, or k > n). Go: ``s.TryAcquire(n)``."""
        if _tls.p is None:
            _sched.getp()  # a foreign thread: count it as a possible waker
        k = _check_weight(k)
        lock = self._lock
        if lock._is_owned():
            return False  # a finalizer in the middle of this semaphore's own code: busy
        lock.acquire()
        if self._size - self._cur >= k and not self._waiters:
            self._cur += k
            lock.release()
            return True
        lock.release()
        return False

    def release(self, k: int = 1) -> None:
        """Release k units, waking the waiters at the head that now fit.
        Raises RuntimeError("semaphore: released more than held") and changes
        nothing if fewer than k are held. Go: ``s.Release(n)``."""
        k = _check_weight(k)
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        lock = self._lock
        lock.acquire()
        cur = self._cur - k
        if cur < 0:
            lock.release()
            raise RuntimeError("semaphore: released more than held")
        self._cur = cur
        woken = self._grant_locked() if self._waiters else None
        lock.release()
        if woken:
            for w in woken:
                w.wake()

    def _grant_locked(self) -> list[Waiter]:
        """Mirrors semaphore.go notifyWaiters: grant units to waiters in FIFO
        order while the head one fits (a big head blocks smaller ones behind)."""
        woken: list[Waiter] = []
        q = self._waiters
        while q:
            w = q[0]
            if w.token.locked():  # stale: its context ended or its park was interrupted
                q.popleft()
                continue
            k = w.elem
            if self._size - self._cur < k:
                break
            q.popleft()
            if w.token.acquire(False):
                self._cur += k
                w.done = True
                woken.append(w)
        return woken

    def __repr__(self) -> str:
        return (
            f"<Semaphore size={self._size} held={self._cur} "
            f"waiters={len(self._waiters)} at {id(self):#x}>"
        )


def _check_weight(k: object) -> int:
    n = k if type(k) is int else check_int(k, "k")
    if n < 0:
        raise ValueError(f"k must be >= 0, got {n}")
    return n


def _wait_done(dch: Chan[Any] | None) -> None:
    """Block until the done channel is ready (forever for None: Go's nil channel)."""
    if dch is None:
        w = _current_waiter(new_token())
        w.park(WAIT_CHAN_RECEIVE_NIL)
        raise spurious("chan receive (nil chan)")
    dch.recv()


__all__ = ["Semaphore"]
