"""The execution tracer (Go's ``runtime/trace``), written as trace-event JSON.

``start(path)`` records what every goroutine does until ``stop()``; the file
is Chrome's / Perfetto's trace-event format (``{"traceEvents": [...]}``), so
it opens in https://ui.perfetto.dev or ``chrome://tracing``, and
``python -m goroutines trace out.json -o out.html`` turns it into a
self-contained HTML timeline. ``python -m goroutines run --trace out.json
script.py`` traces a whole program.

What is recorded, by default: each goroutine's creation, start, parks (with
the wait reason), readies (by whom), resumptions, yields, preemptions and
end; ``blocking()`` calls; timers firing; the monitor handing goroutines to
another P; garbage collections. With ``chan=True`` (``--trace-chan``) also
every channel send, receive and close and every ``select`` (with the case
chosen), and flow arrows from the goroutine that completed an operation to
the partner it woke; the operations of asyncio tasks (``recv_async``,
``select_async``...) and of threads outside goroutines go on a lane of
their own. Channel operations can be tens of millions of events, hence the
option.

The file's layout (see _encode): a goroutine's track has one slice per
stretch off the CPU, named by its wait reason, with the moment it became
runnable and the goroutine that made it so in the slice's args; it ran in
between. One object per park-ready-resume cycle, about 35 bytes an event.

A forked child does not trace (the parent writes the trace; the child may
start its own): see _after_fork_in_child.

``ring_mb=N`` keeps only the last ~N MB of events (Go's flight recorder):
the buffer holds as many events as N MB of this file's output takes.

How it is recorded: the runtime's event layer (``_runtime/events.py``)
has a recorder: with the accelerator, the C sites of ``park_g`` and
``ready`` write each event into a C buffer without calling Python, and the
Python sites call the recorder's C function; on the pure path its Python
twin appends ``(monotonic ns, kind, goroutine id, P, arg)`` tuples (see
events.py for why the ports emit rather than tracing selecting the pure
path). ``stop()`` takes the records a chunk at a time and writes the file
as it goes (gzipped when the path ends in ``.gz``). Channel operations and
selects come from the same event layer: a channel trace subscribes to their
kinds, which the public layer emits while anyone listens
(``goroutines._opevents``: a ``select`` imported by name before ``start()``
and the asyncio operations included); the race detector and the lock-order
checker take their events from the same place.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import threading
from _thread import get_ident
from array import array
from collections.abc import Callable, Iterator
from operator import itemgetter
from time import monotonic_ns
from typing import Any

from . import _opevents as _opevents  # registers the operations' events
from ._runtime import events as _ev
from ._runtime.g import allgs
from ._runtime.sched import tls as _tls

# Measured on this format's output (tests/test_trace.py checks the ring
# buffer's bound with it): a recorded event of the default kinds becomes
# about this many bytes of JSON (a park, its ready and its resume make one
# slice of about 100 bytes; counters and metadata spread over them).
BYTES_PER_EVENT = 35
# With channel operations: an operation's two events make a slice of about
# 170 bytes, and a flow arrow's two ends about 180.
BYTES_PER_EVENT_CHAN = 90

_Rec = _ev.Record  # (monotonic ns, kind, goroutine id or 0, P or None, arg)

# The trace's processes: 1, a track (thread) per goroutine (tid: its id); 2,
# a track per P (OS thread running goroutines); 3, the runtime (GC, timers,
# sysmon); 4, a goroutine's channel operations (tid: its id); 5, the channel
# operations of a thread or asyncio task outside goroutines (tid: its
# number). Their own processes, not offsets in process 1: goroutine ids have
# no upper bound.
_OPS_PID = 4
_ACTORS_PID = 5
_SNAPSHOT = -1  # a goroutine's state when tracing started (arg: (state, reason))
COUNTER_EVERY_US = 100.0  # the goroutine counters are sampled at most this often
_RUNNABLE = ',"name":"runnable"'
_FORMAT_NOTE = (
    "a goroutine's track has a slice per stretch it spent off the CPU, named by its wait "
    "reason or 'runnable'; args.ready: when it became runnable (us after the slice's start), "
    "args.by: the goroutine that made it so; between its slices, from its first moment in "
    "the trace to its end, it ran"
)


class _Tracer:
    def __init__(self, path: str, chan: bool, ring_mb: float | None) -> None:
        self.path = path
        per_event = BYTES_PER_EVENT_CHAN if chan else BYTES_PER_EVENT
        self.capacity = None if ring_mb is None else max(1000, int(ring_mb * 1e6 / per_event))
        self.t0 = monotonic_ns()
        self.chan_sub: Callable[[int, Any, Any], None] | None = None
        self.names: dict[int, str] = {}
        self.parents: dict[int, int] = {}
        self.snap: list[_Rec] = []

    def snapshot(self) -> None:
        """The goroutines that exist when tracing starts, in their states."""
        now = monotonic_ns()
        for g in list(allgs.values()):
            if g.state in ("running", "runnable", "waiting"):
                self.names[g.id] = _gname(g)
                self.parents[g.id] = g.parent_id
                self.snap.append((now, _SNAPSHOT, g.id, g.p, (g.state, g.wait_reason)))


_tracer: _Tracer | None = None
_lock = threading.Lock()


def start(
    path: str | os.PathLike[str], *, chan: bool = False, ring_mb: float | None = None
) -> None:
    """Start tracing into ``path`` (written by ``stop()``).

    ``chan=True`` records channel operations and selects too (many more
    events); ``ring_mb`` keeps only the last ~``ring_mb`` MB of events (a
    flight recorder). Raises RuntimeError if a trace is already running.
    """
    global _tracer
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"trace.start: path must be a str path, got {path!r}")
    if ring_mb is not None and (isinstance(ring_mb, bool) or not ring_mb > 0):
        raise ValueError(f"trace.start: ring_mb must be a positive number, got {ring_mb!r}")
    with _lock:
        if _tracer is not None:
            raise RuntimeError("trace.start: tracing is already enabled")
        t = _Tracer(path, chan, ring_mb)
        t.snapshot()
        _ev.start_recording(t.capacity)
        if chan:
            t.chan_sub = _chan_recorder(t)
            _ev.subscribe(t.chan_sub, _CHAN_KINDS)
        _tracer = t


def stop() -> str:
    """Stop tracing and write the trace file; returns its path. Raises
    RuntimeError if no trace is running."""
    global _tracer
    with _lock:
        t = _tracer
        if t is None:
            raise RuntimeError("trace.stop: tracing is not enabled")
        if t.chan_sub is not None:
            _ev.unsubscribe(t.chan_sub)
        dropped = _ev.stop_recording()
        _tracer = None
        t_end = monotonic_ns()
        _write(t, dropped, t_end)
    return t.path


def _chunks(first: list[_Rec]) -> Iterator[list[_Rec]]:
    if first:
        yield first
    while True:
        chunk = _ev.take_records(65536)
        if not chunk:
            return
        yield chunk


def _write(t: _Tracer, dropped: int, t_end: int) -> None:
    """Write t's file from the recorder's records, taken a chunk at a time
    (the trace is never all in memory as Python objects)."""
    for g in list(allgs.values()):  # goroutines first met mid-trace (a ring)
        if g.id not in t.names:
            t.names[g.id] = _gname(g)
            t.parents[g.id] = g.parent_id
    tmp = t.path + ".tmp"
    f: Any
    if t.path.endswith(".gz"):  # Perfetto and chrome://tracing read it gzipped
        f = gzip.open(tmp, "wt", encoding="utf-8", compresslevel=3)
    else:
        f = open(tmp, "w", encoding="utf-8")
    with f:
        chunks = _chunks([] if dropped else t.snap)
        for text in _encode(chunks, t.names, t.parents, t.t0, t_end, dropped):
            f.write(text)
    os.replace(tmp, t.path)


def tracing() -> bool:
    """Whether a trace is being recorded."""
    return _tracer is not None


def _after_fork_in_child() -> None:
    """The child of a fork does not trace: the parent writes the trace (with
    the events recorded before the fork), and the child may start its own."""
    global _tracer, _lock
    _lock = threading.Lock()
    t = _tracer
    if t is None:
        return
    _tracer = None
    _ev.forget_recording()  # first: it replaces the event layer's lock
    if t.chan_sub is not None:
        _ev.unsubscribe(t.chan_sub)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# -- channel operations ---------------------------------------------------------

_CHAN_KINDS = frozenset({_ev.CHAN, _ev.CHAN_DONE, _ev.SELECT, _ev.SELECT_DONE})


def _chan_recorder(t: _Tracer) -> Callable[[int, Any, Any], None]:
    """The tracer's subscriber to the operations' channel events
    (goroutines._opevents): records each, with the goroutine making it, or
    else an id of a lane of its own for the thread or asyncio task making it
    (goroutine 1 for the main thread before the runtime attached it)."""
    actors: dict[tuple[str, int], int] = {}

    def actor() -> int:
        aio = sys.modules.get("asyncio")
        task = None
        if aio is not None and aio.events._get_running_loop() is not None:
            task = aio.current_task()
        if task is not None:
            key, label = ("task", id(task)), f"asyncio task {task.get_name()}"
        elif threading.current_thread() is threading.main_thread() and not _tls.foreign:
            return 1
        else:
            key, label = ("thread", get_ident()), f"thread {threading.current_thread().name}"
        n = actors.get(key)
        if n is None:
            n = actors[key] = -(len(actors) + 1)  # (goroutine ids are positive)
            t.names[n] = label
        return n

    def record(kind: int, g: Any, arg: Any) -> None:  # (an actor: a negative id)
        _ev.rec_record(kind, actor() if g is None else g, arg)

    return record


# -- the trace-event document --------------------------------------------------


def _gname(g: Any) -> str:
    try:
        return f"G{g.id} {g.name}"
    except Exception:  # a G whose function's name cannot be read
        return f"G{g.id}"


def _encode(
    chunks: Iterator[list[_Rec]],
    names: dict[int, str],
    parents: dict[int, int],
    t0: int,
    t_end: int,
    dropped: int = 0,
) -> Iterator[str]:
    """The trace-event JSON of the records (chunks of them, oldest first, each
    sorted here: the recorder's twin may append two threads' events out of
    order), in pieces.

    A goroutine's track (process 1, thread = its id) holds one complete
    ("X") slice per stretch it spent off the CPU: from its creation, a
    park, a yield or a preemption to the moment it ran again, named by the
    wait reason (or "runnable"); for a park, ``args.ready`` says when in
    the slice it became runnable (µs after its start) and ``args.by`` which
    goroutine made it so. The gaps between a goroutine's slices, from its
    creation to its end (an instant event "end"), are where it ran: one
    object per park-ready-resume cycle instead of three slices (see
    _FORMAT_NOTE). Then a track per P with the goroutine it runs (when there
    were several Ps), counters of runnable and total goroutines, GC, timers
    and hand-offs, and, for channel traces, a track of operations per
    goroutine (process 4) and per thread or asyncio task (process 5: their
    ids are negative in the records) with flow arrows from the goroutine
    that completed an operation to the partner it woke. Times are µs with a
    tenth of a µs.
    """
    dumps = json.dumps
    out: list[str] = []
    emit = out.append
    # Per goroutine id, while it is off the CPU: [since ns, name json, ready
    # ns or 0, waker id or 0, extra args json].
    off: dict[int, list[Any]] = {}
    life: dict[int, int] = {}  # goroutine id -> its first moment in the trace (ns)
    lives: dict[int, list[float | None]] = {}  # goroutine id -> [start, end (µs)] * n
    on_p: dict[int, tuple[int, int]] = {}  # P id -> (goroutine id, since)
    ps: set[int] = set()
    p_held = array("q")  # P slices (P id, goroutine id, since, until) while one P is seen
    runnable: set[int] = set()
    alive: set[int] = set()
    blocking_fn: dict[int, str] = {}
    chan_ids: dict[int, int] = {}
    chan_gs: set[int] = set()  # goroutines with channel operations
    chan_op: dict[int, list[Any]] = {}  # G id -> [op, chan no, since, partners, blocked ns]
    woke_by: dict[int, tuple[int, int]] = {}  # woken G id -> (flow id, waker G id)
    name_json: dict[str, str] = {}
    flow_seq = 0
    gc_since: int | None = None
    last_count: tuple[int, int] | None = None
    last_count_ts = -(10**18)
    count_every = int(COUNTER_EVERY_US * 1000)

    def tenth(ns: int) -> int:  # ns -> tenths of a µs since t0
        return (ns - t0 + 50) // 100

    def us(ns: int) -> str:
        t = max(0, (ns - t0 + 50) // 100)
        return f"{t // 10}.{t % 10}"

    def name_of(reason: str) -> str:
        j = name_json.get(reason)
        if j is None:
            j = name_json[reason] = ',"name":' + dumps(reason)
        return j

    def ops_lane(g: int) -> str:  # the track of g's channel operations
        return f'"pid":{_OPS_PID},"tid":{g}' if g > 0 else f'"pid":{_ACTORS_PID},"tid":{-g}'

    def p_slice(pno: int, gid: int, since: int, until: int) -> None:
        d = max(0, tenth(until) - tenth(since))
        emit(
            f'{{"ph":"X","pid":2,"tid":{pno},"ts":{us(since)},'
            f'"dur":{d // 10}.{d % 10},"name":"G{gid}"}},\n'
        )

    def off_cpu(gid: int, pno: int, ts: int) -> None:
        """gid leaves P pno's CPU at ts."""
        held = on_p.get(pno)
        if held is not None and held[0] == gid:
            del on_p[pno]
            if len(ps) > 1:
                p_slice(pno, gid, held[1], ts)
            else:
                p_held.extend((pno, gid, held[1], ts))

    def slice_(gid: int, o: list[Any], ts: int) -> None:
        since, name, ready, by, extra = o
        a = max(0, (since - t0 + 50) // 100)
        d = max(0, (ts - t0 + 50) // 100 - a)  # (>= 0 but for two threads' events
        if ready:  # out of order across chunks, on the pure path)
            r = min(d, max(0, (ready - t0 + 50) // 100 - a))
            if extra:
                extra += ","
            if by:
                args = f',"args":{{{extra}"ready":{r // 10}.{r % 10},"by":{by}}}'
            else:
                args = f',"args":{{{extra}"ready":{r // 10}.{r % 10}}}'
        elif extra:
            args = ',"args":{' + extra + "}"
        else:
            args = ""
        emit(
            f'{{"ph":"X","pid":1,"tid":{gid},"ts":{a // 10}.{a % 10},'
            f'"dur":{d // 10}.{d % 10}{name}{args}}},\n'
        )
        if chan_op:
            op = chan_op.get(gid)
            if op is not None and name != _RUNNABLE:
                op[4] += (ready or ts) - since

    yield '{"traceEvents":[\n'
    started = False
    PARK, READY, RESUME, START = _ev.PARK, _ev.READY, _ev.RESUME, _ev.START
    CREATE, FINISH, GOSCHED, PREEMPT = _ev.CREATE, _ev.FINISH, _ev.GOSCHED, _ev.PREEMPT
    for chunk in chunks:
        chunk.sort(key=itemgetter(0))
        if not started:
            started = True
            t0 = chunk[0][0]  # the first event (not the start: a ring, run's imports)
        for ts, kind, g, p, arg in chunk:
            pno = -1 if p is None else p.id
            if kind == PARK:
                if g not in life:  # first met leaving the CPU: it ran since the start
                    life[g] = t0
                    alive.add(g)
                if pno >= 0:
                    off_cpu(g, pno, ts)
                extra = ""
                if g in blocking_fn:
                    extra = '"call":' + dumps(blocking_fn[g])
                off[g] = [ts, name_of(arg or "waiting"), 0, 0, extra]
            elif kind == READY:
                held = on_p.get(pno) if pno >= 0 else None
                waker = held[0] if held is not None else 0
                o = off.get(g)
                if o is None:  # first met runnable (the ring dropped its park)
                    o = off[g] = [ts, _RUNNABLE, 0, 0, ""]
                    if g not in life:
                        life[g] = ts
                        alive.add(g)
                else:
                    o[2] = ts
                    o[3] = waker
                runnable.add(g)
                op = chan_op.get(waker) if waker else None
                if op is not None:
                    flow_seq += 1
                    op[3].append(g)
                    woke_by[g] = (flow_seq, waker)
                    emit(
                        f'{{"ph":"s",{ops_lane(waker)},"ts":{us(ts)},'
                        f'"id":{flow_seq},"name":"chan","cat":"flow"}},\n'
                    )
            elif kind == RESUME or kind == START:
                o = off.pop(g, None)
                if o is not None:
                    slice_(g, o, ts)
                elif g not in life:
                    life[g] = t0 if kind == RESUME else ts
                    alive.add(g)
                runnable.discard(g)
                if pno >= 0:
                    on_p[pno] = (g, ts)
                    if pno not in ps:
                        ps.add(pno)
                        if len(ps) == 2:  # several Ps after all: their tracks go out
                            for i in range(0, len(p_held), 4):
                                p_slice(*p_held[i : i + 4])
                            del p_held[:]
            elif kind == CREATE:
                names[g] = _gname(arg)
                parents[g] = arg.parent_id
                life[g] = ts
                alive.add(g)
                runnable.add(g)
                off[g] = [ts, _RUNNABLE, 0, 0, ""]
            elif kind == GOSCHED or kind == PREEMPT:
                if g not in life:
                    life[g] = t0
                    alive.add(g)
                if pno >= 0:
                    off_cpu(g, pno, ts)
                why = '"why":"preempted"' if kind == PREEMPT else '"why":"gosched"'
                off[g] = [ts, _RUNNABLE, 0, 0, why]
                runnable.add(g)
            elif kind == FINISH:
                o = off.pop(g, None)
                if o is not None:
                    slice_(g, o, ts)
                elif g not in life:
                    life[g] = t0
                if pno >= 0:
                    off_cpu(g, pno, ts)
                lives.setdefault(g, []).extend((tenth(life.pop(g)) / 10, tenth(ts) / 10))
                alive.discard(g)
                runnable.discard(g)
                emit(f'{{"ph":"i","s":"t","pid":1,"tid":{g},"ts":{us(ts)},"name":"end"}},\n')
            elif kind == _SNAPSHOT:
                state, reason = arg
                life[g] = ts
                alive.add(g)
                if state == "running":
                    if pno >= 0:
                        on_p[pno] = (g, ts)
                        ps.add(pno)
                elif state == "waiting":
                    off[g] = [ts, name_of(reason or "waiting"), 0, 0, ""]
                else:
                    off[g] = [ts, _RUNNABLE, 0, 0, ""]
                    runnable.add(g)
            elif kind == _ev.BLOCKING:
                blocking_fn[g] = getattr(arg, "__qualname__", None) or repr(arg)
                continue
            elif kind == _ev.BLOCKING_DONE:
                blocking_fn.pop(g, None)
                continue
            elif kind == _ev.TIMER:
                emit(f'{{"ph":"i","s":"t","pid":3,"tid":1,"ts":{us(ts)},"name":"timer fired"}},\n')
                continue
            elif kind == _ev.HANDOFF:
                src, dst, n = arg
                emit(
                    f'{{"ph":"i","s":"t","pid":3,"tid":2,"ts":{us(ts)},"name":"handoff",'
                    f'"args":{{"from_p":{src},"to_p":{dst},"goroutines":{n}}}}},\n'
                )
                continue
            elif kind == _ev.GC_START:
                gc_since = ts
                continue
            elif kind == _ev.GC_END:
                if gc_since is not None:
                    a = tenth(gc_since)
                    emit(
                        f'{{"ph":"X","pid":3,"tid":0,"ts":{a / 10},'
                        f'"dur":{(tenth(ts) - a) / 10},"name":"GC",'
                        f'"args":{{"generation":{int(arg)}}}}},\n'
                    )
                    gc_since = None
                continue
            elif kind == _ev.CHAN or kind == _ev.SELECT:
                if g:
                    chan_gs.add(g)
                    if kind == _ev.CHAN:
                        n = chan_ids.get(arg[1])
                        if n is None:
                            n = chan_ids[arg[1]] = len(chan_ids) + 1
                        chan_op[g] = [arg[0], n, ts, [], 0]
                    else:
                        chan_op[g] = ["select", 0, ts, [], 0]
                continue
            elif kind == _ev.CHAN_DONE or kind == _ev.SELECT_DONE:
                op = chan_op.pop(g, None) if g else None
                if op is None:
                    continue
                name, cno, since, partners, blocked = op
                flow = woke_by.pop(g, None)
                if flow is not None:
                    partners.append(flow[1])
                if kind == _ev.CHAN_DONE:
                    title = f"{name} ch{cno}"
                    more = f'"chan":{cno},"ok":{"true" if arg[2] else "false"}'
                else:
                    title = f"select case {arg}" if arg >= 0 else "select default"
                    more = f'"case":{int(arg)}'
                plist = ",".join(f'"G{x}"' for x in partners)
                a = tenth(since)
                emit(
                    f'{{"ph":"X",{ops_lane(g)},"ts":{a / 10},'
                    f'"dur":{(tenth(ts) - a) / 10},"name":"{title}","cat":"chan",'
                    f'"args":{{"op":"{name}",{more},"partners":[{plist}],'
                    f'"blocked_us":{tenth(t0 + blocked) / 10}}}}},\n'
                )
                if flow is not None:
                    emit(
                        f'{{"ph":"f","bp":"e",{ops_lane(g)},'
                        f'"ts":{us(max(since, ts - 1))},"id":{flow[0]},"name":"chan","cat":"flow"}},\n'
                    )
                continue
            else:
                continue
            if ts - last_count_ts >= count_every:
                c = (len(runnable), len(alive))
                if c != last_count:
                    last_count = c
                    last_count_ts = ts
                    emit(
                        f'{{"ph":"C","pid":1,"ts":{us(ts)},"name":"goroutines",'
                        f'"args":{{"runnable":{c[0]},"total":{c[1]}}}}},\n'
                    )
        yield "".join(out)
        out.clear()
    for gid, o in list(off.items()):
        slice_(gid, o, t_end)
    if len(ps) > 1:
        for pno, (gid, since) in on_p.items():
            p_slice(pno, gid, since, t_end)
    c = (len(runnable), len(alive))
    emit(
        f'{{"ph":"C","pid":1,"ts":{us(t_end)},"name":"goroutines",'
        f'"args":{{"runnable":{c[0]},"total":{c[1]}}}}},\n'
    )
    for gid, since in life.items():  # alive at the end
        lives.setdefault(gid, []).extend((tenth(since) / 10, None))
    gs = sorted(g for g in set(lives) | chan_gs if g > 0)
    actor_lanes = sorted(-g for g in chan_gs if g < 0)
    meta = [
        (1, None, "process_name", "goroutines"),
        (2, None, "process_name", "Ps (threads)"),
        (3, None, "process_name", "runtime"),
        (3, 0, "thread_name", "GC"),
        (3, 1, "thread_name", "timers"),
        (3, 2, "thread_name", "sysmon"),
    ]
    if chan_gs:
        meta.append((_OPS_PID, None, "process_name", "channel operations"))
    if actor_lanes:
        meta.append((_ACTORS_PID, None, "process_name", "threads and asyncio tasks"))
    for gid in gs:
        meta.append((1, gid, "thread_name", names.get(gid, f"G{gid}")))
        if gid in chan_gs:
            meta.append((_OPS_PID, gid, "thread_name", names.get(gid, f"G{gid}")))
    for n in actor_lanes:
        meta.append((_ACTORS_PID, n, "thread_name", names.get(-n, f"thread {n}")))
    if len(ps) > 1:
        for pno in sorted(ps):
            meta.append((2, pno, "thread_name", f"P{pno}"))
    for pid, tid, what, name in meta:
        t = "" if tid is None else f',"tid":{tid}'
        emit(f'{{"ph":"M","pid":{pid}{t},"name":"{what}","args":{{"name":{dumps(name)}}}}},\n')
        if tid is not None and pid in (1, _OPS_PID, _ACTORS_PID):
            emit(
                f'{{"ph":"M","pid":{pid},"tid":{tid},"name":"thread_sort_index",'
                f'"args":{{"sort_index":{tid}}}}},\n'
            )
    yield "".join(out)
    other = {
        "source": "goroutines.trace",
        "format": 3,
        "lanes": _FORMAT_NOTE,
        "goroutines": {str(gid): names.get(gid, f"G{gid}") for gid in gs},
        "parents": {str(gid): parents[gid] for gid in gs if gid in parents},
        # goroutine id -> [first moment in the trace, end or null (alive at
        # the trace's end)] (µs), repeated for an id used again (several run()s)
        "lives": {str(gid): v for gid, v in lives.items()},
        "dropped_events": dropped,
    }
    yield (
        '{"ph":"M","pid":1,"name":"process_sort_index","args":{"sort_index":1}}\n],'
        '"displayTimeUnit":"ms","otherData":' + dumps(other) + "}\n"
    )


__all__ = ["start", "stop", "tracing"]
