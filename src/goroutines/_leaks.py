"""``leaks()``: goroutines provably blocked forever (Go's goroutine leak profile).

A goroutine parked on a channel, Mutex, RWMutex, WaitGroup, Cond or Semaphore
can only be woken by code that reaches that primitive. If no root of the
program and no goroutine that can still run reaches it, nothing ever will:
the goroutine has leaked. As Go's leak profile does, this is a fixed point
over reachability in the object graph:

* The graph is the cycle collector's: every tracked object and the
  references its ``tp_traverse`` shows (``gc.get_referents``), plus an edge
  from each weak reference or proxy to its live object (a lookup can get it
  back). A module's edge is its ``__dict__`` only: the references of an
  extension module's C state are not followed (they count as C state, a
  root). ``gc.get_referents`` takes a reference to whatever a traverse
  visits, and the ``_asyncio`` module of CPython 3.12.0-3.12.5 visits its
  free list of future iterators, objects already freed: dropping those
  references frees them again, each goes onto the free list a second time,
  the list becomes a cycle, and the next full collection loops in that
  traverse for good.
* Roots: every object whose reference count exceeds the references the
  collector can see to it (C state, signal handlers, atexit callables, C
  containers, the frames that are executing: those of running and runnable
  goroutines, of foreign threads, of this call), module globals (reached
  from ``sys``), pending timers and helper-thread calls (reached from the
  runtime's tables), every goroutine that is not parked on a primitive.
* Edges that do not count: through a goroutine object (``allgs``, the run
  queues, a handle kept by the program), through a waiter (the wait
  queues), and the references of a parked goroutine's own stack: its
  frames' local variables, cells and value stacks, its function and
  arguments. Those are read from the frames (``_frame_refs``) and
  subtracted from the excess above, and count only once the goroutine is
  known to be live.
* A parked goroutine is live when an object holding one of its waiters (a
  channel's queue, a Mutex's, a select's every channel) is reachable from the
  roots or from a live goroutine's stack; the rest are leaked.

When in doubt a goroutine counts as live: a reference that cannot be
attributed to a blocked stack is a root, a waiter that no queue holds (being
handed over right now) keeps its goroutine live. So a report is never false;
a leak can be missed (a reference held by C code inside a parked operation).
"""

from __future__ import annotations

import ctypes
import dis
import gc
import sys
import weakref
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator
from types import CodeType, FrameType, ModuleType
from typing import Any, Final

from greenlet import getcurrent

from ._chan import Chan
from ._runtime import dump as _dump
from ._runtime import sched as _sched
from ._runtime.accel import port as _accel_port
from ._runtime.g import (
    DEAD,
    WAIT_CHAN_RECEIVE,
    WAIT_CHAN_RECEIVE_NIL,
    WAIT_CHAN_SEND,
    WAIT_CHAN_SEND_NIL,
    WAIT_COND,
    WAIT_MUTEX,
    WAIT_RWMUTEX_LOCK,
    WAIT_RWMUTEX_RLOCK,
    WAIT_SELECT,
    WAIT_SELECT_NO_CASES,
    WAIT_SEMACQUIRE,
    WAIT_WAITGROUP,
    WAITING,
    G,
    allgs,
)
from ._runtime.waiter import Waiter

_C_CHAN: Final = _accel_port("chan") is not None
_PYTHON_PATH: Final = frozenset({"goroutines._chan", "goroutines._runtime.proc"})
_CHAN_OPS: Final = frozenset({WAIT_CHAN_RECEIVE, WAIT_CHAN_SEND})

# Parked on a primitive: live only while somebody can reach it.
_ON_PRIMITIVE: Final = frozenset(
    {
        WAIT_CHAN_RECEIVE,
        WAIT_CHAN_SEND,
        WAIT_SELECT,
        WAIT_MUTEX,
        WAIT_RWMUTEX_RLOCK,
        WAIT_RWMUTEX_LOCK,
        WAIT_WAITGROUP,
        WAIT_COND,
        WAIT_SEMACQUIRE,
    }
)
# Parked for good: a nil channel, a select without cases.
_FOREVER: Final = frozenset({WAIT_CHAN_RECEIVE_NIL, WAIT_CHAN_SEND_NIL, WAIT_SELECT_NO_CASES})

# The owner of the objects whose references never count (a dead goroutine).
_NOWHERE: Final = -2

# A tracked object referenced by one visible reference only: the count every
# other object's reference count is compared with.
_PROBE: Final[list[list[object]]] = [[]]

# ---------------------------------------------------------------------------
# Reading a suspended frame's references (CPython 3.11-3.13, 64-bit).
#
# PyFrameObject: ob_refcnt, ob_type, f_back, f_frame (the _PyInterpreterFrame).
# _PyInterpreterFrame: its function (strong), its code (strong), f_locals
# (strong, NULL in a function), frame_obj at the offsets below; then
# ``int stacktop`` at 64 and ``localsplus`` at 72 in all three versions.
# stacktop is the live depth (locals and value stack) when the frame called a
# Python function in the same interpreter loop, and -1 while it runs or calls
# into C; then the value stack's depth comes from the bytecode (_depths).

_P: Final = ctypes.sizeof(ctypes.c_void_p)
_SUPPORTED: Final = _P == 8 and (3, 11) <= sys.version_info[:2] <= (3, 13)
if sys.version_info >= (3, 12):
    _CODE, _FUNC, _LOCALS, _FRAME_OBJ = 0, 16, 40, 48
else:
    _CODE, _FUNC, _LOCALS, _FRAME_OBJ = 32, 0, 24, 40
_STACKTOP: Final = 64
_LOCALSPLUS: Final = 72
# The frame's owner (a char after stacktop): a generator's frame is one the
# collector reads itself (its function, code and f_locals always, its
# locals and stack while stacktop says how deep).
_OWNER: Final = 69 if sys.version_info < (3, 12) else 70
_OWNED_BY_GENERATOR: Final = 1


_WEAK: Final = (weakref.ReferenceType, weakref.ProxyType, weakref.CallableProxyType)


def _ptr(addr: int) -> int:
    return ctypes.c_void_p.from_address(addr).value or 0


def _nlocalsplus(code: CodeType) -> int:
    names = code.co_varnames
    cells = sum(1 for name in code.co_cellvars if name not in names)
    return len(names) + cells + len(code.co_freevars)


_TERMINAL: Final = frozenset(
    {
        "JUMP_FORWARD",
        "JUMP_BACKWARD",
        "JUMP_BACKWARD_NO_INTERRUPT",
        "JUMP_ABSOLUTE",
        "JUMP",
        "JUMP_NO_INTERRUPT",
        "RETURN_VALUE",
        "RETURN_CONST",
        "RAISE_VARARGS",
        "RERAISE",
    }
)
_JUMPS: Final = frozenset(dis.hasjrel) | frozenset(dis.hasjabs) | frozenset(
    getattr(dis, "hasjump", ())
)
_depth_cache: weakref.WeakKeyDictionary[CodeType, dict[int, int] | None] = (
    weakref.WeakKeyDictionary()
)


def _depths(code: CodeType) -> dict[int, int] | None:
    """The value stack's depth before each instruction of code (by offset), as
    the compiler computes it; None if the bytecode is not understood."""
    try:
        return _depth_cache[code]
    except KeyError:
        pass
    result: dict[int, int] | None
    try:
        result = _compute_depths(code)
    except Exception:  # an opcode this reading does not know: no value stack
        result = None
    _depth_cache[code] = result
    return result


def _compute_depths(code: CodeType) -> dict[int, int]:
    instrs = list(dis.get_instructions(code))
    at = {ins.offset: k for k, ins in enumerate(instrs)}
    depth: dict[int, int] = {}
    work: list[tuple[int, int]] = [(instrs[0].offset, 0)] if instrs else []
    parse: Any = getattr(dis, "_parse_exception_table", None)
    if parse is not None:
        for entry in parse(code):
            work.append((entry.target, entry.depth + (1 if entry.lasti else 0) + 1))
    have_arg = dis.HAVE_ARGUMENT
    while work:
        off, d = work.pop()
        while off not in depth:
            depth[off] = d
            k = at[off]
            ins = instrs[k]
            arg = ins.arg if ins.opcode >= have_arg else None
            if ins.opcode in _JUMPS and isinstance(ins.argval, int):
                work.append((ins.argval, d + dis.stack_effect(ins.opcode, arg, jump=True)))
            if ins.opname in _TERMINAL or k + 1 >= len(instrs):
                break
            if ins.opname == "RETURN_GENERATOR":
                d += 1  # resumed, the generator starts with the value sent (None)
            else:
                d += dis.stack_effect(ins.opcode, arg, jump=False)
            off = instrs[k + 1].offset
    # 3.11 counts a call's arguments off at PRECALL; they stay on the stack
    # until its CALL returns.
    for k in range(1, len(instrs)):
        if instrs[k].opname == "CALL" and instrs[k - 1].opname == "PRECALL":
            before = depth.get(instrs[k - 1].offset)
            if before is not None:
                depth[instrs[k].offset] = before
    return depth


def _instructions(code: CodeType) -> tuple[list[int], list[str]]:
    """code's instruction offsets and names (cached)."""
    found = _instructions_cache.get(code)
    if found is None:
        instrs = list(dis.get_instructions(code))
        found = ([ins.offset for ins in instrs], [ins.opname for ins in instrs])
        _instructions_cache[code] = found
    return found


_instructions_cache: weakref.WeakKeyDictionary[CodeType, tuple[list[int], list[str]]] = (
    weakref.WeakKeyDictionary()
)


def _instruction_at(code: CodeType, lasti: int) -> int:
    """The offset of the instruction f_lasti is in (3.12 leaves it on the
    last cache entry of a call in progress); -1 if none."""
    offsets = _instructions(code)[0]
    k = bisect_right(offsets, lasti)
    return offsets[k - 1] if k else -1


def _opname_at(code: CodeType, lasti: int) -> str:
    offsets, names = _instructions(code)
    k = bisect_right(offsets, lasti)
    return names[k - 1] if k else ""


def _frame_refs(frame: FrameType) -> list[int] | None:
    """The addresses of the objects a frame holds references to (its function,
    locals, cells and value stack), or None if it cannot be read."""
    f = _ptr(id(frame) + 3 * _P)
    if not f or _ptr(f + _CODE) != id(frame.f_code) or _ptr(f + _FRAME_OBJ) != id(frame):
        return None
    code = frame.f_code
    top = ctypes.c_int.from_address(f + _STACKTOP).value
    n = _nlocalsplus(code)
    generator = ctypes.c_char.from_address(f + _OWNER).value == bytes([_OWNED_BY_GENERATOR])
    if generator and top >= 0:
        return []  # all of it visible to the collector
    if top < 0:
        depths = _depths(code)
        extra = None if depths is None else depths.get(_instruction_at(code, frame.f_lasti))
        top = n + (extra if extra is not None and extra >= 0 else 0)
    elif top < n:
        return None
    refs = [] if generator else [_ptr(f + _FUNC), _ptr(f + _LOCALS)]
    if top:
        refs.extend(x for x in (ctypes.c_void_p * top).from_address(f + _LOCALSPLUS) if x)
    return [r for r in refs if r]


def _stack_frames(g: G) -> Iterator[FrameType] | None:
    """g's frames, innermost first, down to its greenlet's bottom frame; None
    if they cannot be walked (its greenlet runs on another thread)."""
    gr = g.greenlet
    if gr is None or gr.dead:
        return None
    frame = gr.gr_frame
    if frame is None:
        return None
    return _walk(frame)


def _walk(frame: FrameType | None) -> Iterator[FrameType]:
    roots = _dump._roots
    while frame is not None:
        yield frame
        if frame.f_code in roots:
            return
        frame = frame.f_back


# ---------------------------------------------------------------------------


def leaks() -> list[G]:
    """The goroutines that are blocked forever: parked on a channel, Mutex,
    RWMutex, WaitGroup, Cond or Semaphore (or a select of channels) that no
    root of the program and no goroutine able to run can reach any more, or on
    a nil channel or an empty select. Sorted by id.

    Go: the goroutine leak profile (Go 1.27), found the same way, by a fixed
    point over reachability; two goroutines blocked on each other while the
    rest of the program goes on (a partial deadlock) are found too. A
    goroutine is reported only when that is proven: a reference held where
    the collector cannot see (C code, a signal handler, an atexit callable,
    another thread) keeps what it reaches alive. Costs a pass over every
    object of the program; a diagnostic, not for hot paths.
    """
    _sched.getp()
    old_interval = sys.getswitchinterval()
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    # Other threads run no Python code while the graph is read: its frames
    # and queues hold still (the dump holds the GIL the same way).
    sys.setswitchinterval(max(old_interval, _dump._HOLD_GIL * 10))
    try:
        return _leaks()
    finally:
        sys.setswitchinterval(old_interval)
        if enabled:
            gc.enable()


def _referents(o: object) -> list[Any]:
    """What o references, as the collector sees it; a module's ``__dict__``
    only (see the module's docstring: an extension module's traverse may
    visit its free lists, which ``gc.get_referents`` must never hand out)."""
    if isinstance(o, ModuleType):
        return [o.__dict__]
    return gc.get_referents(o)


def _leaks() -> list[G]:
    me = getcurrent()
    objs = gc.get_objects()
    rc = [sys.getrefcount(o) for o in objs]
    index = {id(o): i for i, o in enumerate(objs)}
    n = len(objs)
    indeg = [0] * n
    edges: list[list[int]] = [[] for _ in range(n)]
    get = index.get
    for i in range(n):
        out = edges[i]
        o = objs[i]
        for r in _referents(o):
            j = get(id(r))
            if j is not None:
                out.append(j)
                indeg[j] += 1
        if isinstance(o, _WEAK):
            # Whoever reaches a weak reference or proxy can get the object
            # back (a WeakValueDictionary lookup): an edge, but no reference
            # count. PyWeakReference: ob_refcnt, ob_type, wr_object.
            j = get(_ptr(id(o) + 2 * _P))
            if j is not None:
                out.append(j)
    probe = index[id(_PROBE[0])]
    offset = rc[probe] - indeg[probe]

    # The candidates: goroutines parked on a primitive, or for good.
    cands: dict[int, int] = {}  # id(G) -> candidate number
    gs: list[G] = []
    forever: list[bool] = []
    for g in list(allgs.values()):
        if g.state != WAITING or g.greenlet is me:
            continue
        reason = g.wait_reason
        if reason in _ON_PRIMITIVE or reason in _FOREVER:
            token = g.token
            if token is None or token.locked():  # won: about to run again
                continue
            cands[id(g)] = len(gs)
            gs.append(g)
            forever.append(reason in _FOREVER and not g.is_main)
    nc = len(gs)
    if not nc:
        return []

    # What each candidate owns: its G, greenlet and waiters (their edges
    # count once it is live), its active waiters (token is its park token),
    # and its stack's references.
    owner = [-1] * n
    owned: list[list[int]] = [[] for _ in range(nc)]
    active: list[list[int]] = [[] for _ in range(nc)]
    stack: list[list[int]] = [[] for _ in range(nc)]
    discount = [0] * n
    unknown = [False] * nc  # its stack could not be read: treated as live
    c_parked: list[int] = []  # parked inside the accelerator's channel operation
    c_iterating: list[int] = []  # ... in a ChanIterator's next, which holds the channel
    for c, g in enumerate(gs):
        for obj in (g, g.greenlet):
            k = get(id(obj))
            if k is not None:
                owner[k] = c
                owned[c].append(k)
        frames = _stack_frames(g) if _SUPPORTED else None
        if frames is None:
            unknown[c] = not forever[c]
            continue
        top = True
        for frame in frames:
            if top and _C_CHAN and g.wait_reason in _CHAN_OPS:
                # The Python path parks in _chan.py (or proc's park, below
                # it); the accelerated one right in the frame that called it.
                mod = frame.f_globals.get("__name__")
                if mod not in _PYTHON_PATH or frame.f_code in _dump._roots:
                    c_parked.append(c)
                    if _opname_at(frame.f_code, frame.f_lasti) == "FOR_ITER":
                        c_iterating.append(c)
            top = False
            refs = _frame_refs(frame)
            if refs is None:
                unknown[c] = not forever[c]
                break
            for addr in refs:
                k = get(addr)
                if k is not None:
                    discount[k] += 1
                    stack[c].append(k)
        del frames
    for i in range(n):
        w = objs[i]
        if type(w) is G and w.state == DEAD:
            owner[i] = _NOWHERE  # a finished goroutine's fn will not run again
        elif isinstance(w, Waiter):
            c_ = cands.get(id(getattr(w, "g", None)), -1)
            if c_ >= 0:
                owner[i] = c_
                owned[c_].append(i)
                if w.token is gs[c_].token:
                    active[c_].append(i)

    # Who holds each candidate's active waiters.
    holders: list[list[int]] = [[] for _ in range(nc)]
    is_active = {k: c for c in range(nc) for k in active[c]}
    held: set[int] = set()
    for i in range(n):
        for j in edges[i]:
            c = is_active.get(j, -1)
            if c >= 0 and owner[i] != c:
                holders[c].append(i)
                held.add(j)
    # An accelerated channel operation parks inside C (park_on), holding a
    # reference to the queue it waits in: part of the parked stack too.
    for c in c_parked:
        for h in holders[c]:
            if type(objs[h]) is deque:
                discount[h] += 1
    for c in c_iterating:
        for k in stack[c]:
            if type(objs[k]).__name__ == "ChanIterator":
                for j in edges[k]:
                    if isinstance(objs[j], Chan) and any(h in edges[j] for h in holders[c]):
                        discount[j] += 1
    live = [False] * nc
    for c in range(nc):
        if forever[c]:
            continue
        # Its stack unread, no waiter found, or one that no queue holds
        # (being handed over right now): live, to be sure.
        if unknown[c] or not active[c] or any(k not in held for k in active[c]):
            live[c] = True

    # Roots: unexplained references, goroutines that are not candidates.
    reach = bytearray(n)
    todo: list[int] = []
    for i in range(n):
        if owner[i] == -1 and rc[i] - offset - indeg[i] - discount[i] > 0:
            reach[i] = 1
            todo.append(i)
    for g in list(allgs.values()):
        k = get(id(g))
        if k is not None and id(g) not in cands and not reach[k]:
            reach[k] = 1
            todo.append(k)

    def wake(c: int) -> None:
        live[c] = True
        for k in (*owned[c], *stack[c]):
            todo.append(k)
            reach[k] = 1

    for c in range(nc):
        if live[c]:
            wake(c)
    while True:
        while todo:
            i = todo.pop()
            c = owner[i]
            if c == _NOWHERE or (c >= 0 and not live[c]):
                continue  # a parked goroutine's own state: counts once it is live
            for j in edges[i]:
                if not reach[j]:
                    reach[j] = 1
                    todo.append(j)
        progress = False
        for c in range(nc):
            if not live[c] and not forever[c] and any(reach[h] for h in holders[c]):
                wake(c)
                progress = True
        if not progress:
            break
    return sorted((gs[c] for c in range(nc) if not live[c]), key=lambda g: g.id)





def report(gs: list[G]) -> str:
    """The leak profile of gs as text: ``goroutineleak profile: total N``, then
    one group per creation site, largest first (``N @ site``), each goroutine
    with its dump block (state, stack, ``created by``)."""
    blocks: dict[int, str] = {}
    for block in _dump.dump().split("\n\n"):
        head = block.split(" ", 2)
        if len(head) > 1 and head[0] == "goroutine" and head[1].isdigit():
            blocks[int(head[1])] = block.rstrip("\n")
    groups: dict[tuple[str, int], list[G]] = {}
    for g in gs:
        code = g.created_code
        site = (f"{code.co_qualname} at {code.co_filename}", g.created_line) if code else ("?", 0)
        groups.setdefault(site, []).append(g)
    lines = [f"goroutineleak profile: total {len(gs)}"]
    for (where, line), members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        lines.append("")
        lines.append(f"{len(members)} @ created by {where}:{line}")
        for g in members:
            lines.append("")
            lines.append(blocks.get(g.id, f"goroutine {g.id} [{g.wait_reason}]:"))
    return "\n".join(lines) + "\n"
__all__ = ["leaks", "report"]
