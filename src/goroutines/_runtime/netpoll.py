"""The netpoller: goroutines waiting for file descriptors, and a P's idle wait.

Each P has its own selector (sched.P.selector) with its wake-up pipe
registered, and p.io_waiters: fd -> [(GWaiter, events)]. Only the P's own
thread touches them (a goroutine waits on its own P's selector); other
threads and signal handlers reach a sleeping P through p.wakeup().

Invariants: p.nio counts the goroutines of p parked in wait_fd; the selector's
registration of an fd is the union of its waiters' events (none: unregistered).
No lock is taken here (a goroutine parks through the park-token protocol).
"""

from __future__ import annotations

import os
import selectors
from time import sleep as _os_sleep

from . import sched as _sched
from . import waiter as _waiter
from .g import WAIT_IO
from .panic import check_attention
from .sched import MAX_POLL, P, getp, note_foreign
from .waiter import GWaiter, new_token

# Read as a global of this module (one load); sched._set_attention keeps it
# (registered first, then read: no store in between is lost).
_sched._attention_mirrors.append(globals())
attention = _sched.attention


def poll(p: P, timeout: float | None) -> None:
    """Wait on p's selector. epoll counts whole milliseconds and rounds up, so a
    wait is cut to whole milliseconds and the rest slept precisely. A wait
    longer than MAX_POLL (forever: None) is cut to MAX_POLL."""
    if timeout is not None and timeout > MAX_POLL:
        timeout = MAX_POLL
    elif timeout is not None and 0 < timeout < 0.001:
        _os_sleep(timeout)
        timeout = 0.0
    elif timeout is not None and timeout > 0:
        timeout = int(timeout * 1000) / 1000
    events = p.selector.select(timeout)
    for key, mask in events:
        if key.fd == p.wake_r:
            try:
                while os.read(p.wake_r, 512):
                    pass
            except (BlockingIOError, OSError):
                pass
        else:
            _io_ready(p, key.fd, mask)


def wait_fd(fd: int, events: int) -> None:
    """Park the current goroutine until fd is ready for events (selectors mask)."""
    p = getp()
    if p is None:
        import select as _select

        note_foreign()
        r = [fd] if events & selectors.EVENT_READ else []
        w = [fd] if events & selectors.EVENT_WRITE else []
        _select.select(r, w, [])
        return
    if attention:
        check_attention()
    g = p.curg
    assert g is not None
    token = new_token()
    entry = (GWaiter(g, token), events)
    waiters = p.io_waiters.setdefault(fd, [])
    waiters.append(entry)
    _io_register(p, fd)
    p.nio += 1
    try:
        _waiter.park(WAIT_IO, token)
    finally:
        p.nio -= 1
        lst = p.io_waiters.get(fd)
        if lst is not None and entry in lst:
            lst.remove(entry)
        _io_register(p, fd)


def _io_register(p: P, fd: int) -> None:
    lst = p.io_waiters.get(fd)
    mask = 0
    for _, ev in lst or ():
        mask |= ev
    try:
        key = p.selector.get_key(fd)
    except KeyError:
        key = None
    if mask == 0:
        p.io_waiters.pop(fd, None)
        if key is not None:
            p.selector.unregister(fd)
    elif key is None:
        p.selector.register(fd, mask, None)
    elif key.events != mask:
        p.selector.modify(fd, mask, None)


def _io_ready(p: P, fd: int, mask: int) -> None:
    lst = p.io_waiters.get(fd)
    if not lst:
        return
    keep = []
    for entry in lst:
        w, ev = entry
        if ev & mask:
            if w.token.acquire(False):
                w.wake()
        else:
            keep.append(entry)
    lst[:] = keep
    _io_register(p, fd)
