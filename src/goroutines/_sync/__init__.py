"""sync: Go's sync package, one primitive per module as Go's is.

  mutex.py      Mutex and the Locker protocol          (sync/mutex.go)
  rwmutex.py    RWMutex and RLocker                    (sync/rwmutex.go)
  waitgroup.py  WaitGroup, and its C accelerator wiring (sync/waitgroup.go)
  once.py       Once, once_func/once_value/once_values (sync/once.go, oncefunc.go)
  cond.py       Cond                                   (sync/cond.go)
  common.py     what they share: wait_granted, spurious, check_int

x/sync's weighted Semaphore is in _semaphore.py, built the same way. Each
module states the invariants of its primitive; what follows holds for all.

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
once (an AsyncWaiter cannot be reused).

Invariant of every primitive, whenever its ``_lock`` is free: a queued Waiter
whose token is already won is stale (its park ended by a panic, a Deadlock, a
kill or a task's cancellation): wakers skip it, and its owner takes it out of
the queue.
Lock rule: never hold a lock across a park; dequeue, unlock, then wake. No
primitive holds two of these locks at once (RWMutex takes its writers' Mutex
and its own lock one after the other; Cond never holds its lock while it
takes or releases ``c.l``).

Foreign threads. A plain thread counts as a possible waker for deadlock
detection once it has used the runtime
(docs/api.md#deadlock-and-possible-wakers), blocking or not. Taking a Mutex, a read lock, semaphore units or a WaitGroup count on a fast path is such
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

Departures from Go common to all, on purpose: misuse raises RuntimeError with
Go's words instead of a fatal error, and leaves the state as it was. Each
module lists its own.
"""

from __future__ import annotations

from .cond import Cond
from .mutex import Locker, Mutex
from .once import Once, once_func, once_value, once_values
from .rwmutex import RLocker, RWMutex
from .waitgroup import WaitGroup

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
