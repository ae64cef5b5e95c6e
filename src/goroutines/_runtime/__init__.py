"""The runtime core: G, P, scheduler, Waiter, timers, netpoller, helper threads.

It knows nothing of channels or sync, and imports nothing above it (see
sched.py for its modules, their import order and the lock order).
Everything above it blocks one way:

    from ._runtime import proc
    from ._runtime.waiter import new_token

    lock.acquire()                      # the primitive's own lock
    ... fast path: if it can complete now, complete it, unlock, return ...
    w = proc.current_waiter(new_token())    # GWaiter (goroutine) or ThreadWaiter
    queue.append(w)                     # the primitive's wait queue
    lock.release()                      # never hold a lock across a park
    try:
        w.park("sync.Mutex.Lock")       # Go's wait reason (see g.py)
    except BaseException:
        ...remove w from queue under lock (a panic/Deadlock/kill was delivered)...
        raise
    ... read the result the waker left in w.value / w.ok ...

and wakes one way:

    lock.acquire()
    w = queue.popleft()
    if w.token.acquire(False):          # win the park token: we are its only waker
        w.value = ...; w.ok = True; w.done = True
    lock.release()
    w.wake()                            # ready the goroutine / release the thread

Losing the token means the waiter is stale (a select that fired elsewhere,
a park interrupted by a panic or Deadlock): skip it and try the next.
"""

# The whole core is loaded with its package: fork.py, the top of the import
# order (sched.py), installs the at-fork hook and imports the rest.
from . import fork as fork
