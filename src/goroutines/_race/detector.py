"""The race detector's core: vector clocks, FastTrack's shadow state, reports.

Every thread of execution (a goroutine, or a plain thread) is a ``Thread``
with a vector clock (thread number -> clock, absent = 0) and its own clock
``c``; its *epoch* is ``c@tid``. Synchronizing operations move clocks
through ``SyncClock`` objects: ``release(sc)`` joins the thread's clock into
sc and starts a new epoch, ``acquire(sc)`` joins sc into the thread's clock.
The synchronization hooks (hooks.py) call these from every synchronizing
operation of the library.

A vector clock is two dicts: ``base``, shared and never written once made,
and ``extra``, its owner's own, holding the entries that exceed base (its
value for k is ``extra.get(k) or base.get(k, 0)``). A join adopts the
larger base by reference and copies only what the other side knows beyond
it; ``extra`` is folded into a new base once it is a quarter of it. So 100,000
goroutines that learn one clock (a close() they all wait for, a WaitGroup
they all finish) share it instead of holding a copy each, and a chain of
goroutines handing a clock down copies what changed, not the whole clock:
memory and time linear in the goroutines, not quadratic.

Shadow state (FastTrack, Flanagan & Freund, PLDI 2009): per location the
epoch of its last write, and of its last read - or, once two unordered
reads exist, a read vector clock. The common access (same epoch, or reads
ordered by the last write) costs O(1); only a read shared by unordered
threads costs a dict. A location is (object, key): the key is an attribute
name, None for the container itself, or an index for a list's element.
Objects are tracked by id(); a weak reference (or, for objects that cannot
have one, a strong one) keeps the id from being reused under the entry.

Two accesses race when at least one is a write and neither happens before
the other in this run (Go's -race: whether or not they overlapped in time).
Each pair of source locations is reported once, in Go's layout.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

from .._runtime import sched as _sched

Stack = tuple[tuple[CodeType, int], ...]

_DEPTH = 12  # frames kept per access (Go keeps the full stack)
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

_tls = _sched.tls
_STOP = ("<frozen runpy>", os.path.dirname(os.__file__) + os.sep + "runpy.py")


_EMPTY: dict[int, int] = {}  # the empty base (a base is never written)
# extra is folded into a new base past this size (and a quarter of base):
# below it a clock is one plain dict, as fast as a join gets; a clock about
# to be adopted as a base is folded past _ADOPT_FOLD, so that adopters copy
# little.
_FOLD_MIN = 512
_ADOPT_FOLD = 32

Clock = tuple[dict[int, int], dict[int, int]]  # (base, extra), extra a copy


class Thread:
    """A goroutine's or a plain thread's clocks, and how to name it."""

    __slots__ = ("base", "c", "created", "extra", "gid", "label", "seen", "tid")

    def __init__(
        self, tid: int, vc: dict[int, int], label: str, gid: int, base: dict[int, int] = _EMPTY
    ) -> None:
        self.tid = tid
        self.base = base
        self.extra = vc  # owned: written in place
        self.seen = _EMPTY  # the last other base merged whole into this clock
        self.c = (vc.get(tid) or base.get(tid, 0)) + 1
        vc[tid] = self.c
        self.label = label
        self.gid = gid
        self.created: Stack = ()

    def at(self, k: int) -> int:
        """This clock's entry for thread k."""
        return self.extra.get(k) or self.base.get(k, 0)

    def snapshot(self) -> Clock:
        return self.base, dict(self.extra)


class SyncClock:
    """A synchronization object's clock (a channel's, a Mutex's, ...).

    ``d1`` and ``d2`` name threads whose clocks are known to be at least
    this one (None: unknown); a clock only grows, so the knowledge holds
    until this clock changes. A release by such a thread is a copy of its
    clock (C speed, instead of an entrywise max), an acquire by one is
    nothing to do: the usual hand-off (one sender and one receiver on a
    channel, a Mutex locked and unlocked by turns) costs a copy, not a join.
    """

    __slots__ = ("base", "d1", "d2", "extra", "seen")

    def __init__(self, clock: Clock | None = None) -> None:
        self.base, self.extra = clock if clock is not None else (_EMPTY, {})
        self.seen = _EMPTY
        self.d1: Thread | None = None
        self.d2: Thread | None = None

    def at(self, k: int) -> int:
        return self.extra.get(k) or self.base.get(k, 0)


def _fold(x: Thread | SyncClock) -> dict[int, int]:
    """x's extra into a new base (the same clock, another form; a new dict:
    the old base may be shared)."""
    nb = x.base = {**x.base, **x.extra}
    x.extra = {}
    return nb


def _merge(de: dict[int, int], db: dict[int, int], src: dict[int, int]) -> None:
    bget, eget = db.get, de.get
    for k, v in src.items():
        if v > bget(k, 0) and v > eget(k, 0):
            de[k] = v


def _join(dst: Thread | SyncClock, src: Thread | SyncClock) -> None:
    """dst's clock := the entrywise max of dst's and src's."""
    sb = src.base
    db = dst.base
    if sb is not db and sb is not dst.seen:
        if len(sb) > len(db):
            # Adopt src's larger base, keeping what dst knows beyond it;
            # src's extra is folded first, or every adopter would copy it.
            if len(src.extra) > _ADOPT_FOLD:
                sb = _fold(src)
            sget = sb.get
            ne = {k: v for k, v in db.items() if v > sget(k, 0)}
            for k, v in dst.extra.items():
                if v > sget(k, 0):
                    ne[k] = v  # extra[k] >= base[k]: it overrides
            dst.base = db = sb
            dst.extra = ne
        else:
            _merge(dst.extra, db, sb)
            # A base is never written: once merged it stays below dst
            # (which only grows); the next join with it skips it.
            dst.seen = sb
    de = dst.extra
    eget = de.get
    if db:
        bget = db.get
        for k, v in src.extra.items():
            if v > bget(k, 0) and v > eget(k, 0):
                de[k] = v
    else:
        for k, v in src.extra.items():
            if v > eget(k, 0):
                de[k] = v
    if len(de) > _FOLD_MIN and 4 * len(de) > len(db):
        _fold(dst)


class _Rec:
    """One location's shadow: last write's epoch, last read's epoch or clock."""

    __slots__ = ("r_c", "r_st", "r_sts", "r_t", "r_vc", "w_c", "w_st", "w_t")

    def __init__(self) -> None:
        self.w_t = -1
        self.w_c = 0
        self.w_st: Stack = ()
        self.r_t = -1
        self.r_c = 0
        self.r_st: Stack = ()
        self.r_vc: dict[int, int] | None = None
        self.r_sts: dict[int, Stack] | None = None


# -- threads of execution ----------------------------------------------------

_threads: dict[int, Thread] = {}  # tid -> Thread (goroutine id, or -n for a thread)
_pending: dict[int, tuple[Clock, Stack]] = {}  # gid -> creator's clock, site
_go_lock = threading.Lock()
_next_thread = [0]


class _Local(threading.local):
    t: Thread | None = None  # this plain thread's Thread (or a helper's override)


_local = _Local()


def _new_goroutine(g: Any) -> Thread:
    gid = g.id
    with _go_lock:
        got = _pending.pop(gid, None)
    (base, extra), site = got if got is not None else ((_EMPTY, {}), ())
    t = Thread(gid, extra, f"goroutine {gid}", gid, base)
    t.created = site
    _threads[gid] = t
    _born[0] += 1
    if _born[0] % 1024 == 0:
        _drop_finished()
    return t


_born = [0]


def _drop_finished() -> None:
    """Finished goroutines keep their names and creation sites (for reports),
    not their clocks: vector clocks grow with the number of goroutines."""
    from .._runtime.g import allgs

    for t in list(_threads.values()):
        if t.gid and (t.extra or t.base) and t.gid not in allgs:
            t.base, t.extra, t.seen = _EMPTY, {}, _EMPTY


def _new_thread() -> Thread:
    with _go_lock:
        _next_thread[0] += 1
        tid = -_next_thread[0]
    # Not threading.current_thread(): on a thread still starting it would
    # register a dummy Thread in threading's table, which the real one's end
    # then fails to remove.
    ident = threading.get_ident()
    th = threading._active.get(ident)  # type: ignore[attr-defined]
    label = f"thread {th.name!r}" if th is not None else f"thread {ident}"
    base, extra = getattr(th, "_race_vc", None) or (_EMPTY, {})
    t = Thread(tid, extra, label, 0, base)
    t.created = getattr(th, "_race_site", ())
    _threads[tid] = t
    _local.t = t
    return t


def current() -> Thread:
    """This goroutine's or thread's Thread (made on first use)."""
    p = _tls.p
    if p is not None:
        g = p.curg
        if g is not None:
            t = _threads.get(g.id)
            if t is None:
                t = _new_goroutine(g)
            return t
    t = _local.t
    if t is not None:
        return t
    return _new_thread()


def fork_clock(depth: int) -> tuple[Clock, Stack]:
    """The creator's side of go()/Thread.start: its clock and the call site;
    starts a new epoch for the creator."""
    t = current()
    vc = t.snapshot()
    t.c += 1
    t.extra[t.tid] = t.c
    return vc, stack(depth + 1)


def note_child(gid: int, vc: Clock, site: Stack) -> None:
    """The new goroutine gid starts with vc (called by go()'s hook)."""
    with _go_lock:
        if gid not in _threads:
            _pending[gid] = (vc, site)


# Several Ps run goroutines on several threads: a synchronization clock is
# read and written under this lock (a thread's own clock only by itself).
_clock_lock = threading.Lock()


def release(sc: SyncClock) -> None:
    t = current()
    with _clock_lock:
        if sc.d1 is t or sc.d2 is t or not (sc.extra or sc.base):
            # sc <= t: the join is t's clock. Shared as a join shares it:
            # a large extra is folded first, or every copy would hold it.
            if t.base and len(t.extra) > _ADOPT_FOLD:
                _fold(t)
            sc.base = t.base
            sc.extra = t.extra.copy()
            sc.seen = t.seen
            sc.d1 = t
        else:
            _join(sc, t)
            # max(sc, t) is t's clock when sc was below t all along (the
            # hand-off's first release after a change of hands, say).
            sc.d1 = t if sc.base is t.base and sc.extra == t.extra else None
        sc.d2 = None
    c = t.c = t.c + 1
    t.extra[t.tid] = c


def acquire(sc: SyncClock) -> None:
    t = current()
    with _clock_lock:
        if sc.d1 is t or sc.d2 is t:
            return  # t's clock is at least sc already
        _join(t, sc)
        if sc.d1 is None:
            sc.d1 = t
        else:
            sc.d2 = t


def acq_rel(sc: SyncClock) -> None:
    """An atomic read-modify-write: acquire, then release."""
    acquire(sc)
    release(sc)


# -- stacks --------------------------------------------------------------------


_kind_of: dict[CodeType, int] = {}  # code -> 0 the program's, 1 goroutines', 2 stop


def _kind(code: CodeType) -> int:
    name = code.co_filename
    k = 2 if name.startswith(_STOP) else 1 if name.startswith(_PKG) else 0
    _kind_of[code] = k
    return k


def stack(depth: int = 2) -> Stack:
    """The caller's stack (depth frames up), innermost first: the program's
    frames, up to the first of goroutines' own below them (the goroutine's
    entry, or a library call that called back into the program)."""
    try:
        f: FrameType | None = sys._getframe(depth)
    except ValueError:
        return ()
    out = []
    kinds = _kind_of
    while f is not None:
        code = f.f_code
        k = kinds.get(code)
        if k is None:
            k = _kind(code)
        if k == 0:
            out.append((code, f.f_lineno))
            if len(out) == _DEPTH:
                break
        elif k == 2 or out:
            break
        f = f.f_back
    return tuple(out)


# -- shadow memory ---------------------------------------------------------------

_shadow: dict[int, dict[object, _Rec]] = {}
_shadow_lock = threading.RLock()  # the slow paths (a report calls back in: RLock)
_keep: dict[int, object] = {}  # objects without weak references, kept alive


def _forget(oid: int) -> Callable[[object], None]:
    pop = _shadow.pop  # bound now: at interpreter exit the module's globals are gone
    drop = _refs.pop

    def gone(_: object) -> None:
        pop(oid, None)
        drop(oid, None)

    return gone


def _table(o: object) -> dict[object, _Rec]:
    oid = id(o)
    d = _shadow.get(oid)
    if d is None:
        d = _shadow[oid] = {}
        try:
            _refs[oid] = weakref.ref(o, _forget(oid))
        except TypeError:
            _keep[oid] = o
            if len(_keep) > _keep_limit[0]:
                _sweep()
    return d


_keep_limit = [4096]


def _sweep() -> None:
    """Forget the kept objects nobody else holds any more (a list, a dict:
    no weak references), so that their ids may be reused."""
    getrefcount = sys.getrefcount
    dead = [
        oid for oid, o in _keep.items() if getrefcount(o) <= 4
    ]  # _keep, o, the items tuple, the argument
    for oid in dead:
        del _keep[oid]
        _shadow.pop(oid, None)
    _keep_limit[0] = max(4096, 2 * len(_keep))


_refs: dict[int, weakref.ref[Any]] = {}


def read(o: object, key: object, depth: int = 2) -> None:
    """Record a read of (o, key)."""
    d = _shadow.get(id(o))
    if d is None:
        d = _table(o)
    rec = d.get(key)
    if rec is None:
        rec = d[key] = _Rec()
    t = current()
    tid = t.tid
    c = t.c
    rvc = rec.r_vc
    if rvc is None:
        if rec.r_t == tid and rec.r_c == c:
            return
    elif rvc.get(tid) == c:
        return
    with _shadow_lock:
        _read_slow(o, key, rec, t, depth + 1)


def _read_slow(o: object, key: object, rec: _Rec, t: Thread, depth: int) -> None:
    tid = t.tid
    c = t.c
    at = t.at
    rvc = rec.r_vc
    wt = rec.w_t
    if rec.w_c and wt != tid and rec.w_c > at(wt):
        _report(o, key, "Read", t, stack(depth + 1), "write", wt, rec.w_st)
    if rvc is None:
        rt = rec.r_t
        if rt == tid or rec.r_c <= at(rt):
            rec.r_t = tid
            rec.r_c = c
            rec.r_st = stack(depth + 1)
        else:
            rec.r_vc = {rt: rec.r_c, tid: c}
            rec.r_sts = {rt: rec.r_st, tid: stack(depth + 1)}
    else:
        rvc[tid] = c
        assert rec.r_sts is not None
        rec.r_sts[tid] = stack(depth + 1)


def write(o: object, key: object, depth: int = 2) -> None:
    """Record a write of (o, key)."""
    d = _shadow.get(id(o))
    if d is None:
        d = _table(o)
    rec = d.get(key)
    if rec is None:
        rec = d[key] = _Rec()
    t = current()
    tid = t.tid
    c = t.c
    if rec.w_t == tid and rec.w_c == c:
        return
    with _shadow_lock:
        _write_slow(o, key, rec, t, depth + 1)


def _write_slow(o: object, key: object, rec: _Rec, t: Thread, depth: int) -> None:
    tid = t.tid
    c = t.c
    at = t.at
    st: Stack | None = None
    wt = rec.w_t
    if rec.w_c and wt != tid and rec.w_c > at(wt):
        st = stack(depth + 1)
        _report(o, key, "Write", t, st, "write", wt, rec.w_st)
    rvc = rec.r_vc
    if rvc is None:
        rt = rec.r_t
        if rec.r_c and rt != tid and rec.r_c > at(rt):
            st = st or stack(depth + 1)
            _report(o, key, "Write", t, st, "read", rt, rec.r_st)
    else:
        sts = rec.r_sts
        assert sts is not None
        for u, cu in rvc.items():
            if u != tid and cu > at(u):
                st = st or stack(depth + 1)
                _report(o, key, "Write", t, st, "read", u, sts[u])
        rec.r_vc = None
        rec.r_sts = None
        rec.r_t = tid
        rec.r_c = 0
    rec.w_t = tid
    rec.w_c = c
    rec.w_st = st or stack(depth + 1)


# -- reports -------------------------------------------------------------------

found = [0]
_seen: set[tuple[object, ...]] = set()
_report_lock = threading.Lock()
_halt = "halt_on_error=1" in os.environ.get("GORACE", "").replace(" ", ",").split(",")
describe_hooks: dict[type, Callable[[object, object], str]] = {}


def _describe(o: object, key: object) -> str:
    hook = describe_hooks.get(type(o))
    if hook is not None:
        return hook(o, key)
    tname = type(o).__qualname__
    where = f"0x{id(o):x}"
    if key is None:
        return f"{tname} object at {where}"
    if isinstance(key, str):
        return f"{tname}.{key} (object at {where})"
    return f"{tname} element [{key!r}] (object at {where})"


def _fmt_stack(st: Stack) -> list[str]:
    out = []
    for code, line in st:
        out.append(
            f"  {code.co_qualname}()" if hasattr(code, "co_qualname") else f"  {code.co_name}()"
        )
        out.append(f"      {code.co_filename}:{line}")
    return out or ["  <unknown>"]


def _who(tid: int) -> Thread | None:
    return _threads.get(tid)


def _state(t: Thread) -> str:
    if t.gid == 0:
        return "thread"
    from .._runtime.g import allgs

    return "running" if t.gid in allgs else "finished"


def _report(
    o: object, key: object, kind: str, t: Thread, st: Stack, pkind: str, ptid: int, pst: Stack
) -> None:
    a = (st[0][0].co_filename, st[0][1], kind) if st else ("", 0, kind)
    b = (pst[0][0].co_filename, pst[0][1], pkind) if pst else ("", 0, pkind)
    sig = (a, b) if a <= b else (b, a)
    with _report_lock:
        if sig in _seen:
            return
        _seen.add(sig)
        found[0] += 1
    other = _who(ptid)
    oname = other.label if other is not None else f"goroutine {ptid}"
    lines = ["==================", "WARNING: DATA RACE"]
    loc = _describe(o, key)
    lines.append(f"{kind} at {loc} by {t.label}:")
    lines += _fmt_stack(st)
    lines.append("")
    lines.append(f"Previous {pkind} at {loc} by {oname}:")
    lines += _fmt_stack(pst)
    for who in (t, other):
        if who is None:
            continue
        lines.append("")
        name = who.label[0].upper() + who.label[1:]
        if who.gid == 1:
            lines.append(f"{name} (running) is the main goroutine")
            continue
        lines.append(f"{name} ({_state(who)}) created at:")
        lines += _fmt_stack(who.created)
    lines.append("==================")
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()
    if _halt:
        sys.stderr.write("Found 1 data race(s)\n")
        sys.stderr.flush()
        os._exit(66)


def summary() -> int:
    """Print ``Found N data race(s)`` if any; returns N."""
    n = found[0]
    if n:
        sys.stderr.write(f"Found {n} data race(s)\n")
        sys.stderr.flush()
    return n
