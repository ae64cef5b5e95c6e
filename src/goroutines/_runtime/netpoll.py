"""The netpoller: goroutines and threads waiting for file descriptors.

Go's runtime/netpoll.go and netpoll_epoll.go for the goroutines runtime.

One edge-triggered epoll instance (``_epoll``), shared by every P, holds
every fd the runtime polls. Each such fd has a PollDesc (Go's pollDesc) in
``_pds``: a ready flag and the waiters of each direction, the fd's deadlines,
and whether it is closing. An fd is registered once, with
``EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET``, and stays registered while it
is open: a wait costs no ``epoll_ctl``, and an fd nobody waits on costs
nothing (edge-triggered: a readable socket nobody reads is reported once,
not at every poll, as a level-triggered registration would be).

An edge is recorded in the PollDesc: it wakes the waiters of its direction,
or, when there are none, sets the direction's ready flag, which the next
wait consumes instead of parking. Callers follow Go's contract for
edge-triggered polling: try the operation (non-blocking), and wait only
after it said EAGAIN; a wait may return without the fd being ready (the
caller tries again). The ready flag makes that race-free: an edge between
the failed attempt and the park is never lost.

A reader may skip the attempt when it knows the fd is empty: a stream
read that returned less than it asked for emptied the socket's queue, and
every byte that arrives after it makes a new edge, so the next read can wait
first and try after (net.Conn does; it saves a recv that would say EAGAIN,
and its exception, per round trip). End of stream and errors are not like
data: a short read leaves them pending, and the edge that announced them
may have been consumed already. An edge that says so (EPOLLRDHUP, EPOLLHUP,
EPOLLERR) sets the PollDesc's sticky ``rhup``, and a reader that sees it
always tries first.

Who polls. The epoll fd is registered (level-triggered) in every P's own
selector, beside the P's wake-up pipe: a P sleeping in its idle wait wakes
when the shared epoll has events, and drains it (``poll``). A busy P polls
every TIMER_CHECK_MASK+1 schedules while it has goroutines in I/O (``p.nio``,
proc._find_runnable), and ``poll_shared`` is the non-blocking poll any
thread may call (sysmon's rule: poll at least every ~10 ms while Ps are
busy). Whoever drains an event readies the waiting goroutine on its own P
(``Waiter.wake``: another P's inbound queue and its wake-up pipe).

Two kinds of PollDesc:
  * owned (``open_fd``): the fd belongs to a ``goroutines.net`` object, which
    closes it through ``close_fd``: that wakes every waiter with
    NetClosedError and unregisters the fd before the object closes it.
  * raw (``wait_fd``, the public ``wait_readable``/``wait_writable``): the
    program owns the fd and may close it, or ``dup2`` another file onto its
    number, behind the runtime's back. A raw PollDesc records the identity
    of the file (``st_dev``, ``st_ino``) and every wait checks it: a PollDesc
    found for a different file is stale, its waiters are woken with
    NetClosedError and the fd is registered afresh. A P about to sleep
    checks the fds that raw waiters wait on (``_check_raw``): a waiter on a
    closed fd is woken with NetClosedError, so a closed fd never hides a
    deadlock (the deadlock detector counts goroutines in I/O, ``p.nio``, as
    possible wakers). Raw waits keep level semantics ("until the fd is
    readable"): before parking, a zero-timeout ``poll`` looks whether the fd
    is ready already. ``notify_closing(fd)`` (trio's name) evicts the fd
    before the program closes it.

Threads without a P (plain threads) never touch the shared epoll: a thread
waits in ``poll()`` on the fd and a wake-up pipe of its own (``select.select``
fails for fds >= 1024). Closing the fd, a deadline set or moved, and an edge
of the fd write to that pipe; the thread then looks again.

Deadlines. A PollDesc keeps an absolute deadline per direction
(``clock.read()`` times, 0.0 for none). A goroutine that parks while its
direction has a deadline arms a timer on its own P for that time; setting
or clearing a deadline wakes the waiters so that they look again (and arm
anew), so a deadline applies to operations already waiting and can be
moved while they wait. An expired deadline raises DeadlineExceeded
(``i/o timeout``).

Lock order: ``_table_lock`` (the table and the epoll instance) is taken
before a PollDesc's ``lock``, never the reverse; both are leaves of the
order in sched.py (under them: epoll_ctl, tokens tried, a non-blocking
write to a thread's pipe). Goroutines are woken after both are released.

The accelerator's port ``netpoll`` (``_speedups/netpoll.c``, wired at the end
of this module) runs ``wait`` (through ``_g_wait``) and ``_dispatch`` (with
``_wake_all``) in C; those functions are its twins, and a PollDesc's lock is
then the accelerator's Lock.

Departures from Go: Go's pollDesc has one waiter per direction (the
net.Conn above it serialises its readers and writers, as goroutines.net
does); a raw PollDesc here keeps a list, so that many goroutines may wait
for one raw fd.
"""

from __future__ import annotations

import errno
import math
import os
import select
import threading
from typing import Any

from . import accel as _accel
from . import clock
from . import sched as _sched
from . import timers as _timers
from . import waiter as _waiter
from .errors import DeadlineExceeded, NetClosedError
from .g import WAIT_IO
from .panic import check_attention
from .sched import MAX_POLL, P, getp, note_foreign
from .timers import RTimer
from .waiter import GWaiter, new_token

# Read as a global of this module (one load); sched._set_attention keeps it
# (registered first, then read: no store in between is lost).
_sched._attention_mirrors.append(globals())
attention = _sched.attention

READ = 1  # the same values as selectors.EVENT_READ / EVENT_WRITE
WRITE = 2

_HAS_EPOLL = hasattr(select, "epoll")
if _HAS_EPOLL:
    _EP_IN = select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR | select.EPOLLPRI
    _EP_OUT = select.EPOLLOUT | select.EPOLLHUP | select.EPOLLERR
    _EP_MASK = select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP | select.EPOLLET
    _EP_HUP = select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR
_POLL_IN = select.POLLIN | select.POLLPRI
_POLL_OUT = select.POLLOUT
_MAX_EVENTS = 256

# w.value of a goroutine woken to look again (a deadline was set or moved).
_RECHECK = object()


_pd_lock: Any = _accel.lock_type("netpoll")  # a PollDesc's (the port takes it in C)


class PollDesc:
    """One polled fd (Go's pollDesc).

    Fields, guarded by ``lock`` except where noted:
      fd, owned, ident: set at creation, then only read.
      closing: True once the fd is being closed; never goes back.
      rready / wready: an edge came with nobody waiting (consumed by a wait).
      rhup: an edge said end of stream, hang-up or error (EPOLLRDHUP, EPOLLHUP,
        EPOLLERR); never goes back (see ``hung_up``).
      rwaiters / wwaiters: GWaiters parked for that direction.
      rthreads / wthreads: the wake-up pipes of threads waiting.
      rdeadline / wdeadline: absolute clock.read() times, 0.0 for none.
      rawn: goroutines waiting through wait_fd (a raw fd's waiters).
    """

    __slots__ = (
        "closing",
        "fd",
        "ident",
        "lock",
        "owned",
        "rawn",
        "rdeadline",
        "rhup",
        "rready",
        "rthreads",
        "rwaiters",
        "wdeadline",
        "wready",
        "wthreads",
        "wwaiters",
    )

    def __init__(self, fd: int, owned: bool, ident: tuple[int, int] | None) -> None:
        self.fd = fd
        self.owned = owned
        self.ident = ident
        self.lock = _pd_lock()  # guards every field below
        self.closing = False
        self.rready = False
        self.wready = False
        self.rhup = False
        self.rwaiters: list[GWaiter] = []
        self.wwaiters: list[GWaiter] = []
        self.rthreads: list[int] = []
        self.wthreads: list[int] = []
        self.rdeadline = 0.0
        self.wdeadline = 0.0
        self.rawn = 0

    def __repr__(self) -> str:
        kind = "owned" if self.owned else "raw"
        state = " closing" if self.closing else ""
        return f"<PollDesc fd={self.fd} {kind}{state}>"


# _table_lock guards _pds, _raw_waited and creating _epoll.
_table_lock = threading.Lock()
_pds: dict[int, PollDesc] = {}
_raw_waited: dict[PollDesc, None] = {}  # raw PollDescs with goroutines waiting
_epoll: Any = None  # select.epoll, made on first use
# The P selectors the shared epoll is registered in: id(selector) -> selector
# (kept, so that an id is never reused while listed).
_attached: dict[int, Any] = {}


def _identity(fd: int) -> tuple[int, int] | None:
    """The file an fd number stands for now, or None when it is closed."""
    try:
        st = os.fstat(fd)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _epoll_locked() -> Any:
    global _epoll
    if _epoll is None:
        if not _HAS_EPOLL:
            raise OSError(errno.ENOSYS, "goroutines: the netpoller needs epoll (Linux)")
        _epoll = select.epoll()
    return _epoll


def _register_locked(pd: PollDesc) -> None:
    """Add pd.fd to the shared epoll. Holds _table_lock."""
    ep = _epoll_locked()
    # In the table first: another P may drain the registration's first edge
    # (a connected socket is writable at once) before register() returns,
    # and an edge that finds no PollDesc is lost for good.
    _pds[pd.fd] = pd
    try:
        ep.register(pd.fd, _EP_MASK)
    except FileExistsError:
        # Registered under this number already (a file dup2'd over a
        # registered one, or a raw fd evicted while its file lived on).
        ep.modify(pd.fd, _EP_MASK)
    except BaseException:
        del _pds[pd.fd]
        raise


def _unregister_locked(pd: PollDesc) -> None:
    """Take pd out of the table and of the epoll (if its fd is still its own)."""
    if _pds.get(pd.fd) is pd:
        del _pds[pd.fd]
        if _epoll is not None:
            try:
                _epoll.unregister(pd.fd)
            except OSError:
                pass  # closed already: the kernel dropped the registration
    _raw_waited.pop(pd, None)


def open_fd(fd: int) -> PollDesc:
    """Register an fd that a goroutines.net object owns (and will close
    through close_fd). Go: ``runtime_pollOpen``."""
    with _table_lock:
        old = _pds.get(fd)
        if old is not None:
            _unregister_locked(old)
        pd = PollDesc(fd, True, None)
        _register_locked(pd)
    if old is not None:
        _evict(old)
    return pd


def close_fd(pd: PollDesc) -> None:
    """The fd is about to be closed: wake every waiter with NetClosedError and
    unregister it. Idempotent. Go: ``runtime_pollUnblock`` + ``runtime_pollClose``."""
    with _table_lock:
        _unregister_locked(pd)
    _evict(pd)


def _evict(pd: PollDesc) -> None:
    """Mark pd closing and wake all its waiters with NetClosedError."""
    with pd.lock:
        pd.closing = True
        ws = pd.rwaiters + pd.wwaiters
        pd.rwaiters = []
        pd.wwaiters = []
        _poke(pd.rthreads)
        _poke(pd.wthreads)
    for w in ws:
        if w.token.acquire(False):
            w.value = NetClosedError()
            w.wake()


def notify_closing(fd: int) -> None:
    """Wake every goroutine and thread waiting on fd with NetClosedError, and
    forget fd: call it before closing an fd others may wait on."""
    with _table_lock:
        pd = _pds.get(fd)
        if pd is None:
            return
        _unregister_locked(pd)
    _evict(pd)


def _raw_pd(fd: int) -> PollDesc:
    """The PollDesc of a raw fd, registered afresh when missing or stale."""
    pd = _pds.get(fd)
    if pd is not None and pd.owned and not pd.closing:
        return pd  # a goroutines.net object's fd: it knows when it closes
    ident = _identity(fd)
    if ident is None:
        raise NetClosedError(f"fd {fd}: bad file descriptor")
    if pd is not None and pd.ident == ident and not pd.closing:
        return pd
    stale = None
    with _table_lock:
        pd = _pds.get(fd)
        if pd is not None and (pd.closing or (not pd.owned and pd.ident != ident)):
            stale = pd
            _unregister_locked(pd)
            pd = None
        if pd is None:
            pd = PollDesc(fd, False, ident)
            _register_locked(pd)
    if stale is not None:
        _evict(stale)
    return pd


def _poke(pipes: list[int]) -> None:
    """Wake the threads waiting with these wake-up pipes (non-blocking writes)."""
    for wfd in pipes:
        try:
            os.write(wfd, b"\0")
        except OSError:
            pass  # full: a wake-up is pending already; closed: the thread is gone


# ---------------------------------------------------------------------------
# Deadlines


def set_deadline(pd: PollDesc, mode: int, when: float | None) -> None:
    """Set the deadline of a direction (READ, WRITE or both: READ|WRITE) to
    ``when`` (a clock.read() time; None clears it). Waiters look again: a
    deadline applies to operations already waiting. Go: ``runtime_pollSetDeadline``."""
    d = 0.0 if when is None else float(when)
    if when is not None and d <= 0.0:
        d = -1.0  # in the past: expired (0.0 means none)
    with pd.lock:
        ws: list[GWaiter] = []
        if mode & READ:
            pd.rdeadline = d
            ws += pd.rwaiters
            pd.rwaiters = []
            _poke(pd.rthreads)
        if mode & WRITE:
            pd.wdeadline = d
            ws += pd.wwaiters
            pd.wwaiters = []
            _poke(pd.wthreads)
    for w in ws:
        if w.token.acquire(False):
            w.value = _RECHECK
            w.wake()


def _deadline_fired(w: GWaiter, now: float) -> None:
    """A parked waiter's deadline timer (on the waiter's own P)."""
    if w.token.acquire(False):
        w.value = DeadlineExceeded()
        w.wake()


# ---------------------------------------------------------------------------
# Waiting


def wait(pd: PollDesc, mode: int) -> None:
    """Wait until pd's fd may be ready for mode (READ or WRITE): call it
    after the operation said EAGAIN, then try again (it may return early).

    Raises NetClosedError once the fd is closing, DeadlineExceeded once the
    direction's deadline has passed. From a goroutine it parks (``IO wait``);
    from a thread without a P it blocks the thread in poll().
    Go: ``runtime_pollWait``.
    """
    p = _sched.tls.p
    if p is None:
        p = getp()
        if p is None:
            _thread_wait(pd, mode, None, False)
            return
    _g_wait(p, pd, mode, None, False)


def _g_wait(p: P, pd: PollDesc, mode: int, deadline: float | None, raw: bool) -> None:
    """A goroutine's wait. ``deadline`` (raw waits' own timeout) is used
    instead of pd's deadline when given; a raw wait checks readiness first."""
    if attention:
        check_attention()
    g = p.curg
    assert g is not None
    reading = mode == READ
    while True:
        if raw and _ready_now(pd.fd, mode):
            return
        lock = pd.lock
        lock.acquire()
        if pd.closing:
            lock.release()
            raise NetClosedError()
        if deadline is not None:
            dl = deadline
        else:
            dl = pd.rdeadline if reading else pd.wdeadline
        if dl and dl <= clock.read():
            lock.release()
            raise DeadlineExceeded()
        if reading:
            if pd.rready:
                pd.rready = False
                lock.release()
                if raw:
                    continue  # an edge may be stale: look again (level semantics)
                return
            waiters = pd.rwaiters
        else:
            if pd.wready:
                pd.wready = False
                lock.release()
                if raw:
                    continue
                return
            waiters = pd.wwaiters
        token = new_token()
        w = GWaiter(g, token)
        waiters.append(w)
        if raw:
            pd.rawn += 1
        lock.release()
        if raw and not pd.owned:
            with _table_lock:
                _raw_waited[pd] = None
        rt = None
        if dl:
            rt = RTimer(_deadline_fired, w)
            _timers.add(p, rt, dl)
        last = False
        p.nio += 1
        try:
            _waiter.park(WAIT_IO, token)
        finally:
            p.nio -= 1
            if rt is not None:
                _timers.delete(rt)
            with lock:
                lst = pd.rwaiters if reading else pd.wwaiters
                if w in lst:
                    lst.remove(w)
                if raw:
                    pd.rawn -= 1
                    last = pd.rawn == 0
            if raw and last:
                with _table_lock:
                    if pd.rawn == 0:
                        _raw_waited.pop(pd, None)
        v = w.value
        if v is None:
            if raw:
                continue  # level semantics: ready now? (an edge of another file may wake us)
            return
        if v is _RECHECK:
            continue
        raise v


def _ready_now(fd: int, mode: int) -> bool:
    """Whether fd is ready for mode at this instant (a zero-timeout poll).
    Raises NetClosedError for a closed fd."""
    po = select.poll()
    po.register(fd, _POLL_IN if mode == READ else _POLL_OUT)
    ev = po.poll(0)
    if ev and ev[0][1] & select.POLLNVAL:
        raise NetClosedError(f"fd {fd}: bad file descriptor")
    return bool(ev)


class _ThreadPoller:
    """A thread's wake-up pipe and poll object (closed when the thread ends)."""

    __slots__ = ("__weakref__", "poll", "r", "w")

    def __init__(self) -> None:
        self.r, self.w = os.pipe()
        os.set_blocking(self.r, False)
        os.set_blocking(self.w, False)
        self.poll = select.poll()
        self.poll.register(self.r, select.POLLIN)

    def drain(self) -> None:
        try:
            while os.read(self.r, 512):
                pass
        except OSError:
            pass

    def __del__(self) -> None:
        for fd in (self.r, self.w):
            try:
                os.close(fd)
            except OSError:
                pass


class _ThreadLocal(threading.local):
    poller: _ThreadPoller | None = None


_thread_local = _ThreadLocal()


def _thread_poller() -> _ThreadPoller:
    tp = _thread_local.poller
    if tp is None:
        tp = _thread_local.poller = _ThreadPoller()
    return tp


def _thread_wait(pd: PollDesc, mode: int, deadline: float | None, raw: bool) -> None:
    """A thread without a P waits in poll() on the fd and its wake-up pipe."""
    note_foreign()
    tp = _thread_poller()
    reading = mode == READ
    events = _POLL_IN if reading else _POLL_OUT
    while True:
        with pd.lock:
            if pd.closing:
                raise NetClosedError()
            dl = deadline if deadline is not None else (pd.rdeadline if reading else pd.wdeadline)
            timeout_ms = -1
            expired = False
            if dl:
                left = dl - clock.read()
                if left <= 0:
                    if not raw:
                        raise DeadlineExceeded()
                    expired = True  # a raw wait looks once (a zero timeout)
                    left = 0.0
                timeout_ms = min(math.ceil(left * 1000), int(MAX_POLL * 1000))
            if reading:
                if pd.rready and not raw:
                    pd.rready = False
                    return
                pd.rthreads.append(tp.w)
            else:
                if pd.wready and not raw:
                    pd.wready = False
                    return
                pd.wthreads.append(tp.w)
        tp.poll.register(pd.fd, events)
        try:
            evs = tp.poll.poll(timeout_ms)
        finally:
            tp.poll.unregister(pd.fd)
            with pd.lock:
                lst = pd.rthreads if reading else pd.wthreads
                if tp.w in lst:
                    lst.remove(tp.w)
        for fd, ev in evs:
            if fd == tp.r:
                tp.drain()
            elif ev & select.POLLNVAL:
                raise NetClosedError(f"fd {fd}: bad file descriptor")
            else:
                return  # ready (or an error or hang-up the operation will report)
        if expired:
            raise DeadlineExceeded()


def wait_fd(fd: int, mode: int, timeout: float | None = None) -> None:
    """Wait until a raw fd is ready for mode (READ or WRITE), at most timeout
    seconds (None: no limit). Raises DeadlineExceeded on timeout and
    NetClosedError when the fd is closed meanwhile (notify_closing) or was
    not open. A goroutine parks (``IO wait``); a thread blocks in poll()."""
    deadline = None if timeout is None else clock.read() + timeout
    if deadline is not None and timeout is not None and timeout <= 0:
        deadline = -1.0
    p = _sched.tls.p
    if p is None:
        p = getp()
        if p is None:
            # Registered too, so that notify_closing finds the thread.
            _thread_wait(_raw_pd(fd), mode, deadline, True)
            return
    pd = _raw_pd(fd)
    _g_wait(p, pd, mode, deadline, True)


# ---------------------------------------------------------------------------
# Polling


def _dispatch(fd: int, ev: int) -> None:
    """An edge of fd: wake its waiters, or set the ready flags."""
    pd = _pds.get(fd)
    if pd is None:
        return
    r = ev & _EP_IN
    wr = ev & _EP_OUT
    rws: list[GWaiter] | None = None
    wws: list[GWaiter] | None = None
    with pd.lock:
        if r:
            if ev & _EP_HUP:
                pd.rhup = True
            rws = pd.rwaiters
            if rws:
                pd.rwaiters = []
            else:
                pd.rready = True
            if pd.rthreads:
                _poke(pd.rthreads)
        if wr:
            wws = pd.wwaiters
            if wws:
                pd.wwaiters = []
            else:
                pd.wready = True
            if pd.wthreads:
                _poke(pd.wthreads)
    if rws and not _wake_all(rws):
        # Every waiter had been woken otherwise (a deadline, a kill): keep
        # the edge for the next wait.
        with pd.lock:
            pd.rready = True
    if wws and not _wake_all(wws):
        with pd.lock:
            pd.wready = True


def _wake_all(ws: list[GWaiter]) -> bool:
    """Wake the waiters whose tokens this wins; whether any."""
    woke = False
    for w in ws:
        if w.token.acquire(False):
            w.value = None
            w.wake()
            woke = True
    return woke


def poll_shared() -> int:
    """Drain the shared epoll without blocking and wake the goroutines whose
    fds are ready; returns the number of events. Any thread may call it (a
    P's idle wait and busy polling do; sysmon's periodic poll is this)."""
    ep = _epoll
    if ep is None:
        return 0
    n = 0
    while True:
        try:
            events = ep.poll(0, _MAX_EVENTS)
        except InterruptedError:
            continue
        except (OSError, ValueError):
            return n  # closed (a fork child replaced it)
        for fd, ev in events:
            _dispatch(fd, ev)
        n += len(events)
        if len(events) < _MAX_EVENTS:
            return n


def _attach(p: P) -> None:
    """Register the shared epoll in p's selector (once per selector)."""
    sel = p.selector
    if _attached.get(id(sel)) is sel:
        return
    import selectors

    sel.register(_epoll.fileno(), selectors.EVENT_READ, None)
    _attached[id(sel)] = sel


def _check_raw() -> bool:
    """Wake with NetClosedError the goroutines waiting on raw fds that were
    closed (or now name another file) behind the runtime's back; whether
    there were any."""
    stale = []
    with _table_lock:
        for pd in list(_raw_waited):
            if _identity(pd.fd) != pd.ident:
                stale.append(pd)
                _unregister_locked(pd)
    for pd in stale:
        _evict(pd)
    return bool(stale)


def poll(p: P, timeout: float | None) -> None:
    """p's wait in its selector (its wake-up pipe, the shared epoll, nothing
    else), for at most timeout seconds (None: until woken; 0: a look).
    The shared epoll is drained first: when that readies goroutines, it
    returns without sleeping (the caller looks for work again).
    epoll counts whole milliseconds and rounds up, so a wait is cut to whole
    milliseconds and the rest slept precisely. A wait longer than MAX_POLL
    (forever: None) is cut to MAX_POLL."""
    if _epoll is not None:
        if _attached.get(id(p.selector)) is not p.selector:
            _attach(p)
        if timeout == 0:
            # A busy P's look (nobody writes its wake-up pipe while it runs):
            # the shared epoll alone, without the selector's round.
            poll_shared()
            return
        if _raw_waited and _check_raw():
            timeout = 0.0  # goroutines were woken: look, do not sleep
        elif poll_shared():
            return  # goroutines were readied: no sleep, and no second epoll_wait
    if timeout is not None and timeout > MAX_POLL:
        timeout = MAX_POLL
    elif timeout is not None and 0 < timeout < 0.001:
        from time import sleep as _os_sleep

        _os_sleep(timeout)
        timeout = 0.0
    elif timeout is not None and timeout > 0:
        timeout = int(timeout * 1000) / 1000
    events = p.selector.select(timeout)
    wake_r = p.wake_r
    for key, _mask in events:
        if key.fd == wake_r:
            try:
                while os.read(wake_r, 512):
                    pass
            except (BlockingIOError, OSError):
                pass
        else:
            poll_shared()


def _after_fork_child() -> None:
    """The child shares the parent's epoll instance (its interest list too):
    it gets one of its own, with the fds of the table registered again;
    waiters of the parent's other threads are gone."""
    global _epoll, _table_lock
    _table_lock = threading.Lock()
    _attached.clear()
    _raw_waited.clear()
    old = _epoll
    _epoll = None
    if old is not None:
        try:
            old.close()
        except OSError:
            pass
    pds = list(_pds.values())
    _pds.clear()
    for pd in pds:
        pd.lock = _pd_lock()
        pd.rwaiters = []
        pd.wwaiters = []
        pd.rthreads = []
        pd.wthreads = []
        pd.rawn = 0
        if pd.closing:
            continue
        try:
            _register_locked(pd)
        except OSError:
            pass
    _thread_local.poller = None


if _HAS_EPOLL and _accel.port("netpoll") is not None:
    _accel.wire(
        "netpoll",
        globals(),
        {"wait": "np_wait", "_dispatch": "np_dispatch"},
        polldesc=PollDesc,
        py_wait=wait,
        py_dispatch=_dispatch,
        pds=_pds,
        timers=_timers,
        clock=clock,
        rtimer=RTimer,
        deadline_fired=_deadline_fired,
        poke=_poke,
        net_closed=NetClosedError,
        deadline_exceeded=DeadlineExceeded,
        recheck=_RECHECK,
        wait_io=WAIT_IO,
        ep_in=_EP_IN,
        ep_out=_EP_OUT,
        ep_hup=_EP_HUP,
        pcls=P,
    )


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_child)


__all__ = [
    "READ",
    "WRITE",
    "PollDesc",
    "close_fd",
    "notify_closing",
    "open_fd",
    "poll",
    "poll_shared",
    "set_deadline",
    "wait",
    "wait_fd",
]
