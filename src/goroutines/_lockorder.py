"""Lock-order checking: ``python -m goroutines run --lockorder`` (lockdep's idea).

While enabled, every acquisition of a ``Mutex`` or ``RWMutex`` is recorded
with the locks its goroutine (or foreign thread) already holds: holding A
while taking B adds the edge A -> B to the order graph, with both stacks. An
edge that closes a cycle (B -> ... -> A is already known) means two
goroutines can each hold what the other waits for: ``POTENTIAL DEADLOCK:
lock order inversion`` is reported, with the stacks of every edge of the
cycle, even when this run did not deadlock. Each cycle is reported once.

Zero cost when off: ``enable()`` subscribes to the event layer's lock events
(LOCK, LOCKED, UNLOCK: ``goroutines._opevents`` emits them from ``lock``,
``unlock``, ``try_lock`` and the read forms while anyone listens),
``disable()`` unsubscribes, and with no subscriber left the methods are the
plain ones again. Mutex and RWMutex have no port in the C accelerator, so
nothing has to fall back to the pure path. A ``try_lock`` cannot wait, so it
adds no edge (the lock it takes is held, and orders later ones); two read
locks never wait for each other, so a read lock taken under a read lock adds
none either. The internal Mutex of an RWMutex is not a lock of its own here.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from itertools import pairwise
from types import FrameType
from typing import Any

from . import _opevents as _opevents  # registers the operations' events
from ._runtime import events as _ev
from ._runtime import sched as _sched
from ._sync import RWMutex

_Stack = list[str]

_state_lock = threading.Lock()  # guards everything below; never held across a lock()
# Set while this thread records: a signal handler or finalizer that takes a
# lock in the middle is not recorded (rather than wait for _state_lock).
_busy = threading.local()
_enabled = False
_node_of: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_names: list[str] = []  # node -> "Mutex 0x..."
_internal: weakref.WeakSet[Any] = weakref.WeakSet()  # the Mutex inside each RWMutex
# holder (goroutine or thread) -> [(node, read, stack where taken)]
_held: dict[Any, list[tuple[int, bool, _Stack]]] = {}
_owner: dict[int, Any] = {}  # node -> holder (write-locked nodes)
# (a, b) -> (holder name, stack taking b, stack where a was taken)
_edges: dict[tuple[int, int], tuple[str, _Stack, _Stack]] = {}
_succ: dict[int, set[int]] = {}
_reported: set[frozenset[tuple[int, int]]] = set()
_reports: list[str] = []
_sink: Callable[[str], None] | None = None
_pending: list[str] = []  # reports not yet handed to the sink


class _Recording:
    """``with _Recording() as ok:`` holds _state_lock unless this thread is
    recording already (ok False: record nothing); on the way out, hands new
    reports to the sink without the lock."""

    __slots__ = ("ok",)

    def __enter__(self) -> bool:
        self.ok = not getattr(_busy, "on", False)
        if self.ok:
            _busy.on = True
            _state_lock.acquire()
        return self.ok

    def __exit__(self, *exc: object) -> None:
        if not self.ok:
            return
        texts = list(_pending)
        _pending.clear()
        sink = _sink
        _state_lock.release()
        try:
            if sink is not None:
                for text in texts:
                    sink(text)
        finally:
            _busy.on = False


def _stack(frame: FrameType | None) -> _Stack:
    lines: _Stack = []
    while frame is not None and len(lines) < 64:
        mod = frame.f_globals.get("__name__", "?")
        if not (isinstance(mod, str) and (mod.startswith("goroutines.") or mod == "runpy")):
            code = frame.f_code
            lines.append(f"{mod}.{code.co_qualname}(...)")
            lines.append(f"\t{code.co_filename}:{frame.f_lineno}")
        if mod == "goroutines._runtime.proc" and frame.f_code.co_name in ("_worker", "run"):
            break
        frame = frame.f_back
    return lines


def _holder() -> tuple[Any, str]:
    p = getattr(_sched.tls, "p", None)
    g = p.curg if p is not None else None
    if g is not None:
        return g, f"goroutine {g.id}"
    ident = threading.get_ident()
    return ("thread", ident), f"thread {ident}"


def _node(lock: Any) -> int:
    n = _node_of.get(lock)
    if n is None:
        n = len(_names)
        _node_of[lock] = n
        _names.append(f"{type(lock).__name__} {id(lock):#x}")
    return n


def _path(start: int, goal: int) -> list[int] | None:
    """Nodes from start to goal along known edges (BFS), or None."""
    prev: dict[int, int] = {start: start}
    todo = [start]
    while todo:
        nxt: list[int] = []
        for a in todo:
            for b in _succ.get(a, ()):
                if b not in prev:
                    prev[b] = a
                    if b == goal:
                        path = [b]
                        while path[-1] != start:
                            path.append(prev[path[-1]])
                        return path[::-1]
                    nxt.append(b)
        todo = nxt
    return None


def _describe(a: int, b: int) -> list[str]:
    who, taking, taken = _edges[(a, b)]
    out = [f"{who} took {_names[b]} while holding {_names[a]}:"]
    out.extend(taking or ["\t(no stack)"])
    out.append(f"{_names[a]} was taken at:")
    out.extend(taken or ["\t(no stack)"])
    return out


def _before(lock: Any, read: bool, frame: FrameType | None) -> None:
    """Under _state_lock: the edges from what the holder holds to lock."""
    holder, who = _holder()
    held = _held.get(holder)
    if not held:
        return
    b = _node(lock)
    stack: _Stack | None = None
    for a, a_read, a_stack in held:
        if a == b or (read and a_read) or (a, b) in _edges:
            continue
        if stack is None:
            stack = _stack(frame)
        _edges[(a, b)] = (who, stack, a_stack)
        _succ.setdefault(a, set()).add(b)
        back = _path(b, a)
        if back is None:
            continue
        cycle = [(a, b), *pairwise(back)]
        key = frozenset(cycle)
        if key in _reported:
            continue
        _reported.add(key)
        lines = ["POTENTIAL DEADLOCK: lock order inversion", ""]
        for x, y in cycle:
            lines.extend(_describe(x, y))
            lines.append("")
        text = "\n".join(lines)
        _reports.append(text)
        _pending.append(text)


def _taken(lock: Any, read: bool, frame: FrameType | None) -> None:
    holder, _ = _holder()
    n = _node(lock)
    _held.setdefault(holder, []).append((n, read, _stack(frame)))
    if not read:
        _owner[n] = holder


def _released(lock: Any, read: bool) -> None:
    n = _node_of.get(lock)
    if n is None:
        return
    holder = _holder()[0] if read else _owner.pop(n, None)
    if holder is None:
        holder = _holder()[0]
    for h in (holder, *_held):
        held = _held.get(h)
        if not held:
            continue
        for i in range(len(held) - 1, -1, -1):
            if held[i][0] == n and held[i][1] == read:
                del held[i]
                if not held:
                    del _held[h]
                return


def _on_lock(kind: int, g: Any, arg: tuple[Any, bool, FrameType | None, bool]) -> None:
    """LOCK: a lock is asked for (may_wait False: a try_lock, which adds no
    edge)."""
    lock, read, frame, may_wait = arg
    if type(lock) is RWMutex:
        _internal.add(lock._w)  # before its lock() takes it
    if not may_wait or lock in _internal:
        return
    with _Recording() as ok:
        if ok:
            _before(lock, read, frame)


def _on_locked(kind: int, g: Any, arg: tuple[Any, bool, FrameType | None]) -> None:
    lock, read, frame = arg
    if lock in _internal:
        return
    with _Recording() as ok:
        if ok:
            _taken(lock, read, frame)


def _on_unlock(kind: int, g: Any, arg: tuple[Any, bool]) -> None:
    lock, read = arg
    if lock in _internal:
        return
    with _Recording() as ok:
        if ok:
            _released(lock, read)


_SUBSCRIBERS: tuple[tuple[Callable[[int, Any, Any], None], int], ...] = (
    (_on_lock, _ev.LOCK),
    (_on_locked, _ev.LOCKED),
    (_on_unlock, _ev.UNLOCK),
)


def enable(sink: Callable[[str], None] | None = None) -> None:
    """Start recording (idempotent). ``sink`` gets each report's text as it is
    found (the command line writes it to stderr)."""
    global _enabled, _sink
    with _state_lock:
        _sink = sink
        if _enabled:
            return
        _enabled = True
    for fn, kind in _SUBSCRIBERS:
        _ev.subscribe(fn, {kind})


def disable() -> None:
    """Stop recording and forget everything recorded."""
    global _enabled, _sink
    for fn, _ in _SUBSCRIBERS:
        _ev.unsubscribe(fn)
    with _state_lock:
        _enabled = False
        _sink = None
        _node_of.clear()
        _names.clear()
        _held.clear()
        _owner.clear()
        _edges.clear()
        _succ.clear()
        _reported.clear()
        _reports.clear()
        _pending.clear()


def enabled() -> bool:
    return _enabled


def reports() -> list[str]:
    """The inversions found so far, as text."""
    with _state_lock:
        return list(_reports)


__all__ = ["disable", "enable", "enabled", "reports"]
