"""sync: Mutex, RWMutex, WaitGroup, Once, once_func/once_value/once_values
and Cond (x/sync's weighted Semaphore is in _semaphore.py, built the same way).

Every primitive keeps its state under its own ``_thread`` lock (``self._lock``,
acquired and released explicitly: ``with`` costs about twice as much here) and
blocks only through the runtime's Waiter (see _runtime/__init__.py): under the
lock, try the fast path or queue a Waiter; release the lock; park. A waker wins
the Waiter's token under the same lock, fills in the result, releases the lock
and only then wakes it. So each primitive works from goroutines and from plain
OS threads alike, and from asyncio through _aio.call (``await call(mu.lock)``
runs the blocking method in a greenlet whose Waiter is an AsyncWaiter, and a
cancelled task leaves through the abandonment rule below). The "fast path or
queue this Waiter" step of each is also a method of its own that takes the
Waiter (``_lock_or_enqueue``, ``_rlock_or_enqueue``, ``_wlock_or_enqueue``,
``_wait_or_enqueue``), for a native async variant. A Waiter is parked at most
once (an AsyncWaiter cannot be reused): a Mutex waiter woken to compete that
loses queues again with a fresh one.

Invariants, whenever a primitive's ``_lock`` is free:
  * Mutex: ``_starving`` implies ``_locked`` (in starvation mode the mutex
    passes from owner to waiter without ever being free); ``_woken`` is True
    while exactly one waiter has been woken to compete and has not come back.
  * RWMutex: ``_writer`` is NONE, PENDING (the writer that holds ``_w`` waits
    for ``_readers`` to drop to 0) or LOCKED (then ``_readers == 0``); readers
    are queued in ``_readq`` only while ``_writer`` is not NONE.
  * WaitGroup: ``_count >= 0``; waiters are queued only while it is > 0.
  * Cond: tickets ``< _notify`` have been notified; ``_abandoned`` holds
    tickets ``>= _notify`` whose waiters left without being notified.
  * A queued Waiter whose token is already won is stale (its park ended by a
    panic, a Deadlock, a kill or a task's cancellation): wakers skip it, and
    its owner takes it out of the queue.
Lock rule: never hold a lock across a park; dequeue, unlock, then wake.

Foreign threads. A plain thread counts as a possible waker for deadlock
detection once it has used the runtime (API.md), blocking or not. Taking a
Mutex, a read lock, semaphore units or a WaitGroup count on a fast path is such
a use (that thread will release it later), and so is every operation that can
wake a waiter (unlock, runlock, done, signal, broadcast, release): each entry
point registers a foreign caller first (sched.note_use, or getp), at the cost
of one thread-local read for a goroutine.

The abandonment rule. A park can end in an exception (a panic or Deadlock
delivered to goroutine 1, GreenletExit when run() kills goroutines,
KeyboardInterrupt in a thread, CancelledError in an asyncio task). The parked side then wins its own token if it
still can and, under the lock, looks at ``w.done``: if a waker had already
granted it something (the mutex, a read lock, k units) it gives that back, and
a wake it can no longer use (a Cond signal, a Mutex "woken to compete") is
passed on to the next waiter. Go needs none of this: a goroutine cannot be
interrupted in the middle of a semacquire.

Departures from Go, on purpose:
  * Misuse raises RuntimeError with Go's words instead of a fatal error, and
    leaves the state as it was: a WaitGroup add that would go negative
    changes nothing.
  * No spinning: a goroutine that finds the Mutex locked queues at once.
  * Cond.wait always reacquires ``c.l`` before it returns or raises (as
    Python's threading.Condition does), so ``with mu:`` around it stays sound.
  * Cond keeps its waiters in ticket order (Go's notifyList) but a signal that
    lands on a waiter whose wait was interrupted goes to the next one.
  * WaitGroup.go runs ``done()`` in a ``finally`` (Go 1.25's ``defer
    wg.Done()``); an exception escaping ``fn`` still reaches goroutine 1 as a
    GoroutinePanic.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from time import monotonic
from types import CoroutineType
from typing import Any, Final, Generic, ParamSpec, Protocol, TypeVar, final

from greenlet import GreenletExit

from ._go import _is_async, _reject
from ._runtime import accel as _accel
from ._runtime import proc as _proc
from ._runtime import sched as _sched
from ._runtime.accel import speedups
from ._runtime.g import (
    WAIT_COND,
    WAIT_MUTEX,
    WAIT_RWMUTEX_LOCK,
    WAIT_RWMUTEX_RLOCK,
    WAIT_WAITGROUP,
)
from ._runtime.waiter import Waiter, new_lock, new_token

P = ParamSpec("P")
T = TypeVar("T")
T1 = TypeVar("T1")
T2 = TypeVar("T2")

_current_waiter = _proc.current_waiter
_tls = _sched.tls  # .p: this thread's P; None on a foreign thread (or before first use)


def _wait_granted(
    w: Waiter,
    enqueue: Callable[[Waiter], bool],
    abandon: Callable[[Waiter], None],
    reason: str,
) -> None:
    """Block the caller until a waker grants w what it waits for.

    enqueue(w) grants it at once (True) or queues w; then park with Go's wait
    reason. If the park ends in an exception, abandon(w) gives back what was
    granted meanwhile (the abandonment rule) before it propagates.
    """
    if enqueue(w):
        return
    try:
        w.park(reason)
    except BaseException:
        abandon(w)
        raise
    if not w.done:
        raise _spurious(reason)


def _spurious(what: str) -> BaseException:
    return _sched.throw(f"{what}: woken without a wake-up")


def _check_int(value: object, name: str) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return int(value)


class Locker(Protocol):
    """Anything with ``lock()`` and ``unlock()``: Mutex, RWMutex, ``rw.rlocker()``.
    Go: ``sync.Locker``."""

    def lock(self) -> None: ...
    def unlock(self) -> None: ...


# ---------------------------------------------------------------------------
# Mutex

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
                raise _spurious("sync.Mutex.Lock")
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


# ---------------------------------------------------------------------------
# RWMutex

_W_NONE: Final = 0
_W_PENDING: Final = 1  # a writer holds _w and waits for the readers to leave
_W_LOCKED: Final = 2


@final
class RWMutex:
    """A reader/writer mutual exclusion lock: many readers or one writer.

    A writer blocked in ``lock()`` holds off new readers (Go's writer
    preference); when it unlocks, the readers that queued meanwhile get in
    before the next writer. ``rlock()`` by the goroutine holding the write lock
    blocks, as in Go. ``with rw:`` takes the write lock; ``with rw.rlocker():``
    a read lock. Wait reasons ``"sync.RWMutex.RLock"`` / ``"sync.RWMutex.Lock"``.
    Go: ``sync.RWMutex``.
    """

    __slots__ = ("__weakref__", "_lock", "_readers", "_readq", "_w", "_writer", "_writer_waiter")

    def __init__(self) -> None:
        self._w = Mutex()  # held by the writer (pending or locked): writers queue here
        self._lock = new_lock()  # guards the four fields below
        self._readers = 0  # readers holding the lock
        self._writer = _W_NONE
        self._writer_waiter: Waiter | None = None  # the PENDING writer's waiter
        self._readq: deque[Waiter] = deque()  # readers held off by a writer

    # -- readers --------------------------------------------------------------

    def rlock(self) -> None:
        """Lock for reading; blocks while a writer holds or waits for the lock.
        Go: ``rw.RLock()``."""
        if _tls.p is None:
            _sched.getp()  # a foreign thread: count it as a possible waker
        if _sched.attention:
            _proc.check_attention()
        lock = self._lock
        lock.acquire()
        if self._writer == _W_NONE:
            self._readers += 1
            lock.release()
            return
        lock.release()
        _wait_granted(
            _current_waiter(new_token()),
            self._rlock_or_enqueue,
            self._abandon_reader,
            WAIT_RWMUTEX_RLOCK,
        )

    def _rlock_or_enqueue(self, w: Waiter) -> bool:
        """Take a read lock now (True) or queue w until the writer unlocks."""
        lock = self._lock
        lock.acquire()
        if self._writer == _W_NONE:
            self._readers += 1
            lock.release()
            return True
        self._readq.append(w)
        lock.release()
        return False

    def try_rlock(self) -> bool:
        """Lock for reading if no writer holds or waits for the lock; returns
        whether it did. Go: ``rw.TryRLock()``."""
        if _tls.p is None:
            _sched.getp()  # a foreign thread: count it as a possible waker
        lock = self._lock
        if lock._is_owned():
            return False  # a finalizer in the middle of this RWMutex's own code: busy
        lock.acquire()
        if self._writer == _W_NONE:
            self._readers += 1
            lock.release()
            return True
        lock.release()
        return False

    def runlock(self) -> None:
        """Undo one rlock(). Raises RuntimeError("sync: RUnlock of unlocked
        RWMutex") if no reader holds it. Go: ``rw.RUnlock()``."""
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        lock = self._lock
        lock.acquire()
        if self._readers == 0:
            lock.release()
            raise RuntimeError("sync: RUnlock of unlocked RWMutex")
        self._readers -= 1
        w = None
        if self._readers == 0 and self._writer == _W_PENDING:
            # The last reader out lets the waiting writer in.
            w = self._writer_waiter
            if w is None:
                lock.release()
                raise _sched.throw("sync.RWMutex: pending writer without a waiter")
            if w.token.acquire(False):
                self._writer_waiter = None
                self._writer = _W_LOCKED
                w.done = True
            else:
                w = None  # its park was interrupted: it cleans up itself
        lock.release()
        if w is not None:
            w.wake()

    def _abandon_reader(self, w: Waiter) -> None:
        w.token.acquire(False)
        lock = self._lock
        lock.acquire()
        if w.done:  # unlock() admitted us: give the read lock back
            lock.release()
            self.runlock()
            return
        try:
            self._readq.remove(w)
        except ValueError:
            pass
        lock.release()

    def _admit_readers_locked(self) -> list[Waiter]:
        """The writer is gone: every queued reader gets the read lock."""
        woken: list[Waiter] = []
        for w in self._readq:
            if w.token.acquire(False):
                w.done = True
                woken.append(w)
        self._readq.clear()
        self._readers += len(woken)
        return woken

    # -- writers --------------------------------------------------------------

    def lock(self) -> None:
        """Lock for writing; blocks until no reader or writer holds it. From
        the moment it waits for readers to leave, new readers wait. Go: ``rw.Lock()``."""
        if _tls.p is None:
            _sched.getp()  # a foreign thread: count it as a possible waker
        if _sched.attention:
            _proc.check_attention()
        m = self._w
        m._lock.acquire()
        if not m._locked:
            m._locked = True
            m._lock.release()
        else:
            m._lock.release()
            m._lock_slow(WAIT_RWMUTEX_LOCK)
        lock = self._lock
        lock.acquire()
        if self._readers == 0:
            self._writer = _W_LOCKED
            lock.release()
            return
        lock.release()
        _wait_granted(
            _current_waiter(new_token()),
            self._wlock_or_enqueue,
            self._abandon_writer,
            WAIT_RWMUTEX_LOCK,
        )

    def _wlock_or_enqueue(self, w: Waiter) -> bool:
        """With _w held: take the write lock now (True), or announce a pending
        writer (holding off new readers) and wait with w for the readers to leave."""
        lock = self._lock
        lock.acquire()
        if self._readers == 0:
            self._writer = _W_LOCKED
            lock.release()
            return True
        self._writer = _W_PENDING
        self._writer_waiter = w
        lock.release()
        return False

    def _abandon_writer(self, w: Waiter) -> None:
        w.token.acquire(False)
        lock = self._lock
        lock.acquire()
        if w.done:  # the last reader let us in: unlock
            lock.release()
            self.unlock()
            return
        woken: list[Waiter] = []
        if self._writer_waiter is w:
            self._writer_waiter = None
            self._writer = _W_NONE
            woken = self._admit_readers_locked()
        lock.release()
        for r in woken:
            r.wake()
        self._w.unlock()

    def try_lock(self) -> bool:
        """Lock for writing if no reader or writer holds it; returns whether it
        did. Go: ``rw.TryLock()``."""
        lock = self._lock
        if lock._is_owned() or not self._w.try_lock():
            return False
        lock.acquire()
        if self._readers != 0:
            lock.release()
            self._w.unlock()
            return False
        self._writer = _W_LOCKED
        lock.release()
        return True

    def unlock(self) -> None:
        """Undo lock(): readers that queued meanwhile get in, then the next
        writer may. Raises RuntimeError("sync: Unlock of unlocked RWMutex") if
        it is not write-locked. Go: ``rw.Unlock()``."""
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        lock = self._lock
        lock.acquire()
        if self._writer != _W_LOCKED:
            lock.release()
            raise RuntimeError("sync: Unlock of unlocked RWMutex")
        self._writer = _W_NONE
        woken = self._admit_readers_locked() if self._readq else None
        lock.release()
        if woken:
            for w in woken:
                w.wake()
        self._w.unlock()

    def rlocker(self) -> RLocker:
        """A Locker whose lock()/unlock() are rlock()/runlock(). Go: ``rw.RLocker()``."""
        return RLocker(self)

    __enter__ = lock

    def __exit__(self, *exc: object) -> None:
        self.unlock()

    def __repr__(self) -> str:
        state = ("unlocked", "writer waiting", "write-locked")[self._writer]
        return f"<RWMutex {state} readers={self._readers} at {id(self):#x}>"


@final
class RLocker:
    """The read side of an RWMutex as a Locker (see RWMutex.rlocker)."""

    __slots__ = ("_rw",)

    def __init__(self, rw: RWMutex) -> None:
        self._rw = rw

    def lock(self) -> None:
        """rlock() the RWMutex."""
        self._rw.rlock()

    def unlock(self) -> None:
        """runlock() the RWMutex."""
        self._rw.runlock()

    def __enter__(self) -> None:
        self._rw.rlock()

    def __exit__(self, *exc: object) -> None:
        self._rw.runlock()


# ---------------------------------------------------------------------------
# WaitGroup


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
            delta = _check_int(delta, "delta")
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
                raise _spurious("sync.WaitGroup.Wait")
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


# ---------------------------------------------------------------------------
# Once and the once_* wrappers


@final
class Once:
    """Performs exactly one action.

    ``do(fn)`` calls fn only the first time do is called on this Once; other
    callers block until that call returns. If fn raises, the first caller gets
    the exception and the Once still counts as done: later calls return
    without calling fn. fn calling do on the same Once deadlocks, as in Go.
    Go: ``sync.Once``.
    """

    __slots__ = ("__weakref__", "_done", "_m")

    def __init__(self) -> None:
        self._done = False  # goes False -> True once, under _m, after fn returned
        self._m = Mutex()  # held while fn runs: later callers wait on it

    def do(self, fn: Callable[[], object]) -> None:
        """Call fn if and only if this is the first call of do. Go: ``once.Do(f)``."""
        # Lock-free fast path: _done is a single reference written once, after
        # fn has returned; reading True means fn's effects are complete.
        if self._done:
            return
        m = self._m
        m.lock()
        try:
            if not self._done:
                try:
                    fn()
                finally:
                    self._done = True
        finally:
            m.unlock()

    def __repr__(self) -> str:
        return f"<Once done={self._done} at {id(self):#x}>"


class _OnceValue(Generic[T]):
    """once_value's function object: calls fn once and replays its outcome."""

    __slots__ = ("__weakref__", "_exc", "_fn", "_keep", "_once", "_tb", "_value")

    def __init__(self, fn: Callable[[], T], keep: bool = True) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self._fn: Callable[[], T] | None = fn
        self._keep = keep  # False for once_func: its result is not kept alive
        self._once = Once()
        self._value: T | None = None
        self._exc: BaseException | None = None
        self._tb: Any = None

    def _run(self) -> None:
        fn = self._fn
        self._fn = None  # not kept alive after the first call (Go: f = nil)
        assert fn is not None
        try:
            value = fn()
            if self._keep:
                self._value = value
        except BaseException as e:
            self._exc = e
            self._tb = e.__traceback__
            raise

    def __call__(self) -> T:
        once = self._once
        if not once._done:
            once.do(self._run)  # the first caller gets fn's exception from here
        exc = self._exc
        if exc is not None:
            # The same object every time; its traceback reset to the first
            # call's so that it does not grow with every re-raise.
            raise exc.with_traceback(self._tb)
        return self._value  # type: ignore[return-value]


def once_func(fn: Callable[[], object]) -> Callable[[], None]:
    """A function that calls fn only once, however often and concurrently it is
    called. If fn raises, every call re-raises that same exception object.
    Go: ``sync.OnceFunc(f)``."""
    ov: _OnceValue[Any] = _OnceValue(fn, keep=False)

    def call() -> None:
        ov()

    call.__qualname__ = getattr(fn, "__qualname__", "once_func")
    call.__doc__ = getattr(fn, "__doc__", None)
    return call


def once_value(fn: Callable[[], T]) -> Callable[[], T]:
    """A function that calls fn only once and returns its value on every call.
    If fn raises, every call re-raises that same exception object.
    Go: ``sync.OnceValue(f)``."""
    return _OnceValue(fn)


def once_values(fn: Callable[[], tuple[T1, T2]]) -> Callable[[], tuple[T1, T2]]:
    """once_value for a function returning a pair: ``a, b = f()``.
    Go: ``sync.OnceValues(f)``."""
    return _OnceValue(fn)


# ---------------------------------------------------------------------------
# Cond


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
            _wait_granted(w, self._wait_or_enqueue, lambda w: self._abandon(t, w), WAIT_COND)
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


__all__ = [
    "Cond",
    "Locker",
    "Mutex",
    "Once",
    "RLocker",
    "RWMutex",
    "WaitGroup",
    "once_func",
    "once_value",
    "once_values",
]


if speedups is not None:
    # The accelerator's WaitGroup.add and done (accel.py): the common case in
    # C, the methods above for the rest.
    speedups.setup_waitgroup(WaitGroup)
    _accel.install(WaitGroup, {"add": speedups.wg_add, "done": speedups.wg_done})
