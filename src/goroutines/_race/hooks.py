"""Happens-before edges from the library's synchronizing operations.

Installed by ``enable()`` only: the methods of the pure-Python path are
wrapped (replaced on their classes and modules) at that moment, so a
program run without the detector runs exactly the code it always ran. The
command line selects the pure path (``GOROUTINES_PURE=1``) before goroutines
is imported; the C accelerator's fast paths emit no events.

The edges, as Go's memory model states them:

* ``go()``: the creator's clock before go() -> the new goroutine's start.
* A channel: each send releases into the channel's send clock before it
  starts, each receive acquires it when it returns (a value or the close:
  ``close`` releases into the same clock). Each receive releases into the
  channel's receive clock (an unbuffered channel's before it starts, a
  buffered one's when it has taken the value), which each send acquires when
  it completes: the k-th receive -> the (k+C)-th send. ``select`` does the
  same for the case it runs. These clocks join every send (receive) so far,
  so the detector may order more than Go does, never less.
* Mutex/RWMutex: unlock -> the next lock (RUnlock -> the next Lock, Unlock
  -> the next RLock). WaitGroup: add/done -> wait returning. Once: the
  function's return -> every do() returning. Cond: signal/broadcast -> a
  wait returning. Semaphore: release -> acquire. AtomicInt: every operation
  acquires and releases (atomics synchronize, as in Go).
* ``blocking(fn)``: fn runs on a helper thread as the calling goroutine
  (which waits), so start and finish are ordered with it.
* ``threading.Thread``: start -> the thread's run; the thread's end -> a
  join that returned with the thread finished. ``threading.Lock`` and
  ``RLock`` made after enable(): release -> the next acquire (and so
  ``threading.Condition``, ``Event``, ``queue.Queue`` built on them).
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any

from . import detector as _d

_clocks: dict[tuple[int, str], _d.SyncClock] = {}
_refs: dict[int, Any] = {}
_enabled = False


def _drop(oid: int) -> Callable[[object], None]:
    refs, clocks = _refs, _clocks  # bound now: at interpreter exit the globals are gone

    def gone(_: object) -> None:
        refs.pop(oid, None)
        for role in ("", "s", "r", "w", "u", "o", "c", "a", "l"):
            clocks.pop((oid, role), None)

    return gone


def clock(o: object, role: str = "") -> _d.SyncClock:
    """The synchronization clock of o (role: which of its clocks)."""
    oid = id(o)
    sc = _clocks.get((oid, role))
    if sc is None:
        sc = _clocks[(oid, role)] = _d.SyncClock()
        if oid not in _refs:
            try:
                _refs[oid] = weakref.ref(o, _drop(oid))
            except TypeError:
                _refs[oid] = o
    return sc


def _wrap(cls: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    orig = cls.__dict__[name] if isinstance(cls, type) else getattr(cls, name)
    new = make(orig)
    try:
        functools.update_wrapper(new, orig)
    except (AttributeError, TypeError):
        pass
    setattr(cls, name, new)


# -- go ------------------------------------------------------------------------


def _hook_go() -> None:
    from .. import _go
    from .._runtime import proc as _proc

    orig = _proc.go

    def go(
        fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], depth: int
    ) -> Any:
        vc, site = _d.fork_clock(depth + 1)
        with _d._go_lock:
            g = orig(fn, args, kwargs, depth + 1)
            if g.id not in _d._threads:
                _d._pending[g.id] = (vc, site)
        return g

    _proc.go = go
    _go._sched_go = go


# -- channels and select ---------------------------------------------------------


def _hook_chan() -> None:
    from .. import _chan

    Chan = _chan.Chan

    # A channel's two clocks, found with one dict lookup per operation.
    pairs: dict[int, tuple[_d.SyncClock, _d.SyncClock]] = {}

    def clocks(ch: Any) -> tuple[_d.SyncClock, _d.SyncClock]:
        pair = pairs.get(id(ch))
        if pair is None:
            pair = pairs[id(ch)] = (clock(ch, "s"), clock(ch, "r"))
            weakref.finalize(ch, pairs.pop, id(ch), None)
        return pair

    release = _d.release
    acquire = _d.acquire

    def before_send(ch: Any) -> None:
        release(clocks(ch)[0])

    def after_send(ch: Any) -> None:
        acquire(clocks(ch)[1])

    def before_recv(ch: Any) -> None:
        if not ch._cap:
            release(clocks(ch)[1])

    def after_recv(ch: Any) -> None:
        s, r = clocks(ch)
        acquire(s)
        if ch._cap:
            release(r)

    def send(orig: Callable[..., Any]) -> Callable[..., Any]:
        def send(self: Any, value: Any, /) -> None:
            before_send(self)
            orig(self, value)
            after_send(self)

        return send

    def try_send(orig: Callable[..., Any]) -> Callable[..., Any]:
        def try_send(self: Any, value: Any, /) -> bool:
            before_send(self)
            ok = bool(orig(self, value))
            if ok:
                after_send(self)
            return ok

        return try_send

    def recv(orig: Callable[..., Any]) -> Callable[..., Any]:
        def recv(self: Any) -> Any:
            before_recv(self)
            v = orig(self)
            after_recv(self)
            return v

        return recv

    def try_recv(orig: Callable[..., Any]) -> Callable[..., Any]:
        def try_recv(self: Any) -> Any:
            before_recv(self)
            v = orig(self)
            if v[2]:
                after_recv(self)
            return v

        return try_recv

    def close(orig: Callable[..., Any]) -> Callable[..., Any]:
        def close(self: Any) -> None:
            _d.release(clock(self, "s"))
            orig(self)

        return close

    _wrap(Chan, "send", send)
    _wrap(Chan, "try_send", try_send)
    _wrap(Chan, "recv", recv)
    _wrap(Chan, "recv_ok", recv)
    _wrap(Chan, "try_recv", try_recv)
    _wrap(Chan, "close", close)

    import goroutines

    from .. import _select

    orig_select = _select.select
    SEND = _select.SEND

    def select(*cases: Any, default: bool = False) -> Any:
        chans: list[Any] = []
        for case in cases:
            if type(case) is not tuple or len(case) != 3 or type(case[0]) is not Chan:
                chans.append(None)
                continue
            c, kind = case[0], case[1]
            chans.append(c)
            if c is None:
                continue
            if kind is SEND:
                before_send(c)
            else:
                before_recv(c)
        i, v = orig_select(*cases, default=default)
        if i >= 0:
            c = chans[i]
            if c is not None:
                if cases[i][1] is SEND:  # a send case
                    after_send(c)
                else:
                    after_recv(c)
        return i, v

    functools.update_wrapper(select, orig_select)
    _select.select = select
    goroutines.select = select


# -- sync ------------------------------------------------------------------------


def _acq_after(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def f(self: Any, *a: Any) -> Any:
            r = orig(self, *a)
            _d.acquire(clock(self, role))
            return r

        return f

    return make


def _acq_if(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def f(self: Any, *a: Any) -> Any:
            r = orig(self, *a)
            if r:
                _d.acquire(clock(self, role))
            return r

        return f

    return make


def _rel_before(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def f(self: Any, *a: Any) -> Any:
            _d.release(clock(self, role))
            return orig(self, *a)

        return f

    return make


def _hook_sync() -> None:
    from .. import _atomic, _semaphore
    from .._sync import cond, mutex, once, rwmutex, waitgroup

    M = mutex.Mutex
    _wrap(M, "lock", _acq_after("w"))
    M.__enter__ = M.lock
    _wrap(M, "try_lock", _acq_if("w"))
    _wrap(M, "unlock", _rel_before("w"))

    RW = rwmutex.RWMutex
    _wrap(RW, "lock", _acq_after("w"))  # after the writer: every unlock and runlock
    RW.__enter__ = RW.lock
    _wrap(RW, "try_lock", _acq_if("w"))
    _wrap(RW, "unlock", _rel_before("w"))
    _wrap(RW, "rlock", _acq_after("u"))
    _wrap(RW, "try_rlock", _acq_if("u"))
    _wrap(RW, "runlock", _rel_before("w"))

    def rw_unlock(orig: Callable[..., Any]) -> Callable[..., Any]:
        def unlock(self: Any) -> None:
            _d.release(clock(self, "u"))  # Unlock -> the next RLock
            orig(self)

        return unlock

    _wrap(RW, "unlock", rw_unlock)

    WG = waitgroup.WaitGroup
    _wrap(WG, "add", _rel_before("w"))
    _wrap(WG, "done", _rel_before("w"))
    _wrap(WG, "wait", _acq_after("w"))

    def do(orig: Callable[..., Any]) -> Callable[..., Any]:
        def do(self: Any, fn: Callable[[], object]) -> None:
            def run() -> object:
                try:
                    return fn()
                finally:
                    _d.release(clock(self, "o"))

            orig(self, run)
            _d.acquire(clock(self, "o"))

        return do

    _wrap(once.Once, "do", do)

    C = cond.Cond
    _wrap(C, "signal", _rel_before("c"))
    _wrap(C, "broadcast", _rel_before("c"))
    _wrap(C, "wait", _acq_after("c"))

    S = _semaphore.Semaphore
    _wrap(S, "release", _rel_before("s"))
    _wrap(S, "acquire", _acq_after("s"))
    _wrap(S, "try_acquire", _acq_if("s"))

    def atomic(orig: Callable[..., Any]) -> Callable[..., Any]:
        def op(self: Any, *a: Any) -> Any:
            sc = clock(self, "a")
            _d.acquire(sc)
            r = orig(self, *a)
            _d.release(sc)
            return r

        return op

    for name in ("load", "store", "add", "swap", "compare_and_swap"):
        _wrap(_atomic.AtomicInt, name, atomic)


# -- blocking() and threads ------------------------------------------------------------


def _hook_blocking() -> None:
    from .._runtime import blocking as _blocking

    orig = _blocking.blocking_call

    def blocking_call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        me = _d.current()

        def as_caller(*a: Any, **k: Any) -> Any:
            saved = _d._local.t
            _d._local.t = me  # the goroutine waits: the helper runs as it
            try:
                return fn(*a, **k)
            finally:
                _d._local.t = saved

        return orig(as_caller, args, kwargs)

    _blocking.blocking_call = blocking_call


def _hook_threads() -> None:
    T = threading.Thread

    def start(orig: Callable[..., Any]) -> Callable[..., Any]:
        def start(self: Any) -> None:
            self._race_vc, self._race_site = _d.fork_clock(1)
            orig(self)

        return start

    def bootstrap(orig: Callable[..., Any]) -> Callable[..., Any]:
        def _bootstrap_inner(self: Any) -> None:
            try:
                orig(self)
            finally:
                t = _d._local.t
                if t is not None:
                    self._race_end = t.snapshot()

        return _bootstrap_inner

    def join(orig: Callable[..., Any]) -> Callable[..., Any]:
        def join(self: Any, timeout: float | None = None) -> None:
            orig(self, timeout)
            end = getattr(self, "_race_end", None)
            if end is not None and not self.is_alive():
                _d.acquire(_d.SyncClock(end))

        return join

    _wrap(T, "start", start)
    _wrap(T, "_bootstrap_inner", bootstrap)
    _wrap(T, "join", join)


class _Lock:
    """threading.Lock under the detector: release -> the next acquire."""

    __slots__ = ("__weakref__", "_l")

    def __init__(self, inner: Any) -> None:
        self._l = inner

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        ok: bool = self._l.acquire(blocking, timeout)
        if ok:
            _d.acquire(clock(self, "l"))
        return ok

    __enter__ = acquire

    def release(self) -> None:
        _d.release(clock(self, "l"))
        self._l.release()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def locked(self) -> bool:
        return bool(self._l.locked())

    def _at_fork_reinit(self) -> None:
        self._l._at_fork_reinit()

    def __repr__(self) -> str:
        return repr(self._l)


class _RLock(_Lock):
    """threading.RLock under the detector (with what Condition uses)."""

    __slots__ = ()

    def _is_owned(self) -> bool:
        return bool(self._l._is_owned())

    def _release_save(self) -> Any:
        _d.release(clock(self, "l"))
        return self._l._release_save()

    def _acquire_restore(self, state: Any) -> None:
        self._l._acquire_restore(state)
        _d.acquire(clock(self, "l"))


def _hook_thread_locks() -> None:
    """threading.Lock and threading.RLock made from now on synchronize for
    the detector (the runtime's own locks were all made at import)."""
    raw_lock = threading.Lock
    raw_rlock = threading.RLock

    def Lock() -> Any:
        return _Lock(raw_lock())

    def RLock(*args: Any, **kwargs: Any) -> Any:
        return _RLock(raw_rlock(*args, **kwargs))

    threading.Lock = Lock  # type: ignore[assignment]
    threading.RLock = RLock  # type: ignore[assignment]


def _hook_after_func() -> None:
    """context.after_func(ctx, f): the call happens before f starts (Go's
    AfterFunc registers f under the context's lock, which the cancel that
    starts f takes too)."""
    import functools

    from .. import context as _context
    from .._go import _is_async

    orig = _context.after_func

    def after_func(ctx: Any, f: Callable[[], object]) -> Callable[[], bool]:
        if not callable(f) or _is_async(f):
            return orig(ctx, f)  # its TypeError
        sc = _d.SyncClock()
        _d.release(sc)

        @functools.wraps(f)
        def started() -> object:
            _d.acquire(sc)
            return f()

        return orig(ctx, started)

    _context.after_func = after_func


def enable() -> None:
    """Install the hooks (once). Call before the program's modules import
    names from goroutines (``from goroutines import select`` copies)."""
    global _enabled
    if _enabled:
        return
    _enabled = True
    _hook_go()
    _hook_chan()
    _hook_sync()
    _hook_blocking()
    _hook_threads()
    _hook_thread_locks()
    _hook_after_func()
