"""sync.RWMutex (Go's sync/rwmutex.go) and RLocker, its read side as a Locker.

Writers queue on ``_w``, a Mutex held by the writer from the moment it waits
for readers (PENDING) until it unlocks. The other fields are guarded by
``_lock``: ``_readers``, ``_writer``, ``_writer_waiter``, ``_readq``. ``_w``'s
lock and ``_lock`` are never held together.

Invariants, whenever ``_lock`` is free:
  * ``_writer`` is _W_NONE, _W_PENDING (the writer that holds ``_w`` waits
    for ``_readers`` to drop to 0; ``_writer_waiter`` is its Waiter) or
    _W_LOCKED (then ``_readers == 0``).
  * Readers are queued in ``_readq`` only while ``_writer`` is not _W_NONE;
    when the writer leaves, every queued reader is admitted at once (Go's
    writer preference: the readers that queued get in before the next writer).

Departures from Go, on purpose: ``runlock`` without a reader and ``unlock``
without the write lock raise RuntimeError with Go's words instead of a fatal
error, and change nothing.
"""

from __future__ import annotations

from collections import deque
from typing import Final, final

from .._runtime import proc as _proc
from .._runtime import sched as _sched
from .._runtime.g import WAIT_RWMUTEX_LOCK, WAIT_RWMUTEX_RLOCK
from .._runtime.waiter import Waiter, new_lock, new_token
from .common import wait_granted
from .mutex import Mutex

_current_waiter = _proc.current_waiter
_tls = _sched.tls  # .p: this thread's P; None on a foreign thread (or before first use)

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
        wait_granted(
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
        wait_granted(
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


__all__ = ["RLocker", "RWMutex"]
