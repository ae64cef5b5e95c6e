"""Happens-before edges: the event layer's, and those of the standard library.

Installed by ``enable()`` only. The library's synchronizing operations come
from the runtime's event layer (``_runtime/events.py``): the detector
subscribes to RELEASE and ACQUIRE (which ``goroutines._opevents`` emits
around every channel operation, select, Mutex/RWMutex, WaitGroup, Once,
Cond, Semaphore and atomic operation and ``context.after_func``, as Go's
memory model orders them: see that module), CREATE (``go()``: the creator's
clock before go() -> the new goroutine's start) and BLOCKING_RUN
(``blocking(fn)``: fn runs on a helper thread as the calling goroutine,
which waits). The command line selects the pure path (``GOROUTINES_PURE=1``)
before goroutines is imported, so the C ports' fast paths, which emit only
the scheduler's events, are not in the way.

What the event layer cannot see, because it is the standard library's, is
wrapped here:

* ``threading.Thread``: start -> the thread's run; the thread's end -> a
  join that returned with the thread finished. ``threading.Lock`` and
  ``RLock`` made after enable(): release -> the next acquire (and so
  ``threading.Condition``, ``Event``, ``queue.Queue`` built on them).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from .._opevents import wrap_method  # (importing it registers the operations' events)
from .._runtime import events as _ev
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


# -- the event layer's edges ----------------------------------------------------


def _on_release(kind: int, g: Any, arg: tuple[object, str]) -> None:
    o, role = arg
    sc = _clocks.get((id(o), role))  # (clock()'s lookup, without its call)
    _d.release(sc if sc is not None else clock(o, role))


def _on_acquire(kind: int, g: Any, arg: tuple[object, str]) -> None:
    o, role = arg
    sc = _clocks.get((id(o), role))
    _d.acquire(sc if sc is not None else clock(o, role))


def _on_create(kind: int, g: Any, arg: Any) -> None:
    """go(): emitted by the creator before the new goroutine can run."""
    vc, site = _d.fork_clock(1)
    _d.note_child(arg.id, vc, site)


# A helper thread running a blocking() call runs as the goroutine that waits
# for it (whose Thread the detector made when it started): per helper thread,
# the Threads it stood for, innermost last.
_as: dict[int, list[Any]] = {}


def _on_blocking_run(kind: int, g: Any, arg: Any) -> None:
    saved = _d._local.t
    if kind == _ev.BLOCKING_RUN:
        _as.setdefault(threading.get_ident(), []).append(saved)
        _d._local.t = None if g is None else _d._threads.get(g.id) or _d._new_goroutine(g)
    else:
        stack = _as.get(threading.get_ident())
        _d._local.t = stack.pop() if stack else None


def _subscribe() -> None:
    _ev.subscribe(_on_release, {_ev.RELEASE})
    _ev.subscribe(_on_acquire, {_ev.ACQUIRE})
    _ev.subscribe(_on_create, {_ev.CREATE})
    _ev.subscribe(_on_blocking_run, {_ev.BLOCKING_RUN, _ev.BLOCKING_RUN_DONE})


# -- blocking() and threads ------------------------------------------------------------


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

    wrap_method(T, "start", start)
    wrap_method(T, "_bootstrap_inner", bootstrap)
    wrap_method(T, "join", join)


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


def enable() -> None:
    """Install the hooks (once). Call before the program's modules import
    names from goroutines (``from goroutines import select`` copies)."""
    global _enabled
    if _enabled:
        return
    _enabled = True
    _subscribe()
    _hook_threads()
    _hook_thread_locks()
