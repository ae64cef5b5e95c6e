"""sysmon: the runtime's monitor thread (Go's sysmon, runtime/proc.go).

One daemon thread, started with the first P (proc calls start() when it makes
one; a program that only imports the library has none), watches every P from
outside, holding no P:

  * how long the P's running goroutine has gone without a schedule: p.schedtick
    is bumped by every schedule, so an unchanged tick from one look to the next
    means the same goroutine has run all along (Go's schedtick/schedwhen);
  * whether that thread is stuck outside the runtime, in a call that released
    the GIL (time.sleep, a blocking socket, hashlib on a large buffer): its top
    frame and instruction stay the same from look to look, and either its
    thread uses no CPU (blocked in the kernel) or sysmon itself got the GIL
    without waiting (so no thread was running Python).

and acts on what it sees:

  * preemption: a goroutine that has run for PREEMPT_AFTER is asked to yield
    (the preemption hook, see preempt.py; nothing happens without it);
  * hand-off: a P stuck outside the runtime for HANDOFF_AFTER with goroutines
    not yet started in its queues gives them to another P (handoff): all of
    them to an idle one or a new one while fewer than max_procs run
    goroutines (Go's handoffp), else half to the least loaded (Go's stealing
    rule). Only unstarted goroutines
    move: a started one lives on its greenlet, which cannot cross threads.
    Never eagerly: under the GIL a cross-thread hand-off costs tens of
    microseconds, so a chatty program stays on one thread;
  * the stuck-thread report: a goroutine that has held its thread outside the
    runtime for BLOCK_REPORT_AFTER while something on its P waits for it (a
    runnable goroutine, a due timer) is reported on stderr, once per call
    site, with its stack and the fix;
  * the netpoller: while some P is busy, the shared epoll is drained every
    NETPOLL_EVERY (netpoll.poll_shared), so a busy program never starves its
    sockets;
  * the watchers registered with on_tick (the Ctrl-C escalation).

Its pace (Go's sysmon sleeps 20 us to 10 ms): every TICK_RUNNING while some
goroutine has run through a whole tick (a candidate for preemption or
hand-off), backing off by doubles to TICK_BUSY while every busy P keeps
scheduling, and to TICK_IDLE while every P sleeps. Under the GIL a tick that
finds a thread running Python waits for the GIL's switch interval: that wait is
the measure sysmon uses (above) and the bound of its cost.

GOROUTINES_SYSMON=0 starts no monitor (no preemption, hand-off or report).

Invariants: sysmon reads the Ps' lock-free fields under the GIL (a snapshot,
possibly stale by the time it acts); it moves goroutines only under
_sched_lock, so the deadlock detector never sees one in flight; the only
runtime state it writes is the queues it moves goroutines between, g.p of a
goroutine it moves, and p.stuck.
"""

from __future__ import annotations

import atexit
import gc
import linecache
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from time import monotonic
from types import FrameType

from . import clock as _clock
from . import events as _events
from . import exit as _exit
from . import netpoll as _netpoll
from . import proc as _proc
from . import sched as _sched
from .dump import current_frames, dump_stack
from .g import G
from .sched import P

ENABLED = os.environ.get("GOROUTINES_SYSMON", "1") != "0"
BLOCK_REPORT = os.environ.get("GOROUTINES_BLOCK_REPORT", "1") != "0"

TICK_RUNNING = 0.002  # some goroutine ran through a whole tick
NETPOLL_EVERY = 0.010  # while Ps are busy, sockets are polled this often (Go's sysmon)
TICK_BUSY = 0.010  # the longest pause while some P is busy
TICK_IDLE = 0.020  # the longest pause while every P sleeps
PREEMPT_AFTER = 0.010  # Go's forcePreemptNS
HANDOFF_AFTER = 0.001
BLOCK_REPORT_AFTER = 0.100
# sysmon got the GIL this soon after its pause ended: nobody held it.
GIL_FREE = 0.0005

# Hooks, set by the modules that act for sysmon (preempt.py, panic.py,
# netpoll.py): called on sysmon's thread.
request_preempt: Callable[[P], None] | None = None
cancel_preempt: Callable[[P], None] | None = None
_on_tick: list[Callable[[float], None]] = []


def on_tick(fn: Callable[[float], None]) -> None:
    """Call fn(now) on every tick of sysmon (its own thread)."""
    _on_tick.append(fn)


class _Watch:
    """What sysmon saw of one P at its last look."""

    __slots__ = (
        "code",
        "cpu",
        "delayed",
        "frame",
        "lasti",
        "preempted",
        "reported",
        "same",
        "seen",
        "since",
        "tick",
    )

    def __init__(self) -> None:
        self.tick = -1
        self.since = 0.0  # when this tick was first seen
        self.delayed = 0.0  # when other work of the P was first seen waiting (0: none)
        # The frame object itself, not its id: a frame that ended is kept
        # alive until the next look, so a new call of the same function (a
        # loop calling it) can never take its address and look "the same".
        self.frame: FrameType | None = None
        self.seen = 0.0  # when that frame was first seen at that instruction
        self.code: object = None
        self.lasti = -1
        self.same = 0  # looks in a row at the same frame and instruction
        self.cpu = 0.0  # the thread's CPU time at the last look
        self.preempted = False
        self.reported = False


_watches: dict[P, _Watch] = {}
_reported_sites: set[tuple[str, int]] = set()
_thread: threading.Thread | None = None
_start_lock = threading.Lock()  # guards _thread (a leaf)
_wake = threading.Event()
_stopping = False


_held = 0  # held(): while > 0, the loop looks at nothing
_look_lock = threading.Lock()  # a look in progress; guards _held


@contextmanager
def held() -> Iterator[None]:
    """No look at any P while inside (one in progress is waited for), no
    request left from before: for tests of the preemption interface itself,
    which must see only their own requests."""
    global _held
    with _look_lock:
        _held += 1
    try:
        cancel = cancel_preempt
        if cancel is not None:
            for p in list(_sched._all_ps):
                cancel(p)
        yield
    finally:
        with _look_lock:
            _held -= 1


def start() -> None:
    """Start the monitor thread if it is not running (called when a P is made)."""
    global _thread, ENABLED
    if not ENABLED or _thread is not None or _exit._exiting:
        return
    with _start_lock:
        if _thread is None and not _stopping:
            t = threading.Thread(target=_loop, name="goroutines-sysmon", daemon=True)
            try:
                t.start()
            except RuntimeError:
                # No threads here (an isolated subinterpreter): no monitor,
                # as with GOROUTINES_SYSMON=0.
                ENABLED = False
                return
            _thread = t


def _loop() -> None:
    _sched.tls.helper = True  # never a possible waker (sched._register_foreign)
    _sched.block_async_signals()
    delay = TICK_RUNNING
    last = now = polled = monotonic()
    while True:
        last = now
        woke_at = monotonic() + delay
        _wake.wait(delay)
        if _stopping or _exit._exiting:
            return
        now = monotonic()
        gil_free = now - woke_at < GIL_FREE
        try:
            with _look_lock:
                if _held:
                    continue
                running, busy = _tick(now, gil_free, last)
                if busy and now - polled >= NETPOLL_EVERY:
                    # Busy Ps poll only every TIMER_CHECK_MASK+1 schedules, and
                    # a goroutine that holds its P's thread not at all: ready
                    # sockets must not wait for them (Go's sysmon rule).
                    polled = now
                    _netpoll.poll_shared()
                for fn in _on_tick:
                    fn(now)
        except Exception as e:  # pragma: no cover - a bug; sysmon must survive it
            try:
                sys.stderr.write(f"goroutines: sysmon: {e!r}\n")
            except Exception:
                pass
            running, busy = False, True
        if running:
            delay = TICK_RUNNING
        else:
            delay = min(delay * 2, TICK_BUSY if busy else TICK_IDLE)


_full_collections = [0]  # gc's count of full collections at the last look


def _tick(now: float, gil_free: bool, last: float) -> tuple[bool, bool]:
    """One look at every P (last: when the previous look was). Returns (some
    goroutine ran through the whole tick, some P is busy).

    A tick seen changed is counted from the previous look: the P scheduled
    at some time since then. (While a goroutine holds the GIL sysmon looks
    only every switch interval, 5 ms: counting from now would let a
    goroutine run up to two intervals past PREEMPT_AFTER.)"""
    running = busy = False
    frames: dict[int, FrameType] | None = None
    # A full collection since the last look explains a frame seen at the
    # same instruction (the collector ran there, holding the GIL): the
    # thread was not stuck outside the runtime, so the count starts again.
    full = gc.get_stats()[2]["collections"]
    collected = full != _full_collections[0]
    _full_collections[0] = full
    ps = list(_sched._all_ps)
    if len(_watches) > len(ps):
        for gone in [p for p in _watches if p not in ps]:
            del _watches[gone]
            if cancel_preempt is not None:
                cancel_preempt(gone)  # proc's detach cancels too; this is cheap
    for p in ps:
        w = _watches.get(p)
        if w is None:
            w = _watches[p] = _Watch()
        if p.sleeping or p.curg is None:
            _reset(p, w, -1, last)
            continue
        busy = True
        tick = p.schedtick
        if tick != w.tick:
            _reset(p, w, tick, last)
            if p.runq or p.inbound:
                # Work queued behind a running goroutine: look again soon,
                # in case the thread is about to be stuck.
                running = True
            continue
        running = True
        if frames is None:
            frames = current_frames()
        f = frames.get(p.ident)
        if f is None:
            continue  # its thread has ended
        cpu = _thread_cpu(p.ident)
        blocked = cpu - w.cpu < 0.1 * TICK_RUNNING
        w.cpu = cpu
        if (
            f is w.frame
            and not collected
            and f.f_code is w.code
            and f.f_lasti == w.lasti
            and (blocked or gil_free)
        ):
            w.same += 1
        else:
            w.frame, w.code, w.lasti, w.same = f, f.f_code, f.f_lasti, 0
            w.seen = now
        # Three looks in a row at the same instruction, the thread using no
        # CPU or leaving the GIL free at the last two: a thread that runs
        # Python code but got no CPU for a look (a loaded machine) is not
        # taken for a stuck one. Enough to hand work off (a mistake costs a
        # move); a report needs more: the same for half the report's delay,
        # and the thread not waiting for a CPU (on a loaded machine a thread
        # can go unscheduled for several looks at the instruction where it
        # gave the GIL to this one).
        outside = w.same >= 2
        if outside and blocked and _waits_for_cpu(p):
            outside = False  # runnable, not asleep: it only waits for a CPU
            w.same, w.seen = 0, now
        ran = now - w.since
        if (
            ran >= PREEMPT_AFTER
            and request_preempt is not None
            and (_delayed(p, now) or _sched.attention or p.kill_req is not None)
        ):
            # Only when something waits for the thread (a goroutine, a due
            # timer, a panic for goroutine 1, a kill): a preemption with
            # nothing else to run is all cost (the armed events fire on every
            # line of the program until a safe point). Again at every look: a
            # request arms the code the goroutine runs now, which may not be
            # the code it ran at the last one.
            w.preempted = True
            request_preempt(p)
        if outside and ran >= HANDOFF_AFTER and _sched.procs >= 2 and _unstarted_tail(p):
            handoff(p)
        if ran < BLOCK_REPORT_AFTER or not _delayed(p, now):
            w.delayed = 0.0
        elif not w.delayed:
            w.delayed = now
        elif now - w.delayed >= BLOCK_REPORT_AFTER:
            outside = outside and now - w.seen >= BLOCK_REPORT_AFTER / 2
            p.stuck = (w.since, outside, tick)
            if BLOCK_REPORT and outside and not w.reported:
                w.reported = True
                _report(p, f, ran)
    return running, busy


def _reset(p: P, w: _Watch, tick: int, now: float) -> None:
    if w.preempted and cancel_preempt is not None:
        cancel_preempt(p)
    w.tick = tick
    w.since = now
    w.same = 0
    w.frame = None
    w.code = None
    w.preempted = False
    w.reported = False
    w.delayed = 0.0
    if tick >= 0:
        w.cpu = _thread_cpu(p.ident)
    if p.stuck is not None:
        p.stuck = None


def _waits_for_cpu(p: P) -> bool:
    """p's thread is runnable (Linux: state R in /proc), rather than asleep
    in a call; False where it cannot be told. Asked of a thread that used no
    CPU since the last look: runnable then means waiting for a CPU."""
    try:
        with open(f"/proc/self/task/{p.native_id}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return False
    # "tid (comm) S ...": comm may hold spaces and parentheses; the state
    # follows the last ')'.
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] == b"R"


def _thread_cpu(ident: int) -> float:
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(ident))
    except (AttributeError, OSError):
        return 0.0  # unknown: counts as blocked, the frame decides


def _unstarted_tail(p: P) -> bool:
    """The tail of p's run or inbound queue is a goroutine not yet started."""
    for q in (p.inbound, p.runq):
        try:
            if q[-1].greenlet is None:
                return True
        except IndexError:
            pass
    return False


def _delayed(p: P, now: float) -> bool:
    """Something on p waits for its thread: a runnable goroutine, a due timer."""
    if p.runq or p.inbound or p.timerq or p.runnext is not None:
        return True
    timers = p.timers
    return bool(timers) and timers[0][0] <= now


# ---------------------------------------------------------------------------
# Hand-off


def handoff(victim: P) -> P | None:
    """Give victim's not-yet-started goroutines, taken from the tails of its
    run and inbound queues, to another P: all of them to an idle or new P
    (Go's handoffp gives the whole P), half (rounded up) to a busy one (Go's
    stealing rule). Returns that P, or None (no other P may take them, or
    nothing to move).

    Only the owner pops a P's queues from the head, so taking from the tail
    is safe against it: its pops that find the queue emptied meanwhile fall
    back to its scheduler (proc._find_runnable). A started goroutine met at
    the tail is put back and ends the taking.
    """
    target = _pick_target(victim)
    if target is None:
        return None
    whole = target.sleeping or target.curg is None
    moved: list[G] = []
    put_back = False
    with _sched._sched_lock:
        want = len(victim.runq) + len(victim.inbound)
        if not whole:
            want = (want + 1) // 2
        for q in (victim.inbound, victim.runq):
            while len(moved) < want:
                try:
                    g = q.pop()
                except IndexError:
                    break
                if g.greenlet is not None or g.p is not victim or g is victim.g1 or _pinned(g):
                    q.append(g)
                    put_back = True
                    break
                moved.append(g)
        moved.reverse()
        for g in moved:
            g.p = target
            target.inbound.append(g)
    if put_back and victim.sleeping:
        victim.wakeup()
    if not moved:
        return None
    if target.sleeping:
        target.wakeup()
    _emit_handoff(victim, target, len(moved))
    return target


def _emit_handoff(victim: P, target: P, n: int) -> None:
    """The event layer's record of a hand-off (kept out of handoff's body)."""
    h = _events.hook
    if h is not None:
        h(_events.HANDOFF, None, (victim.id, target.id, n))


def _pinned(g: G) -> bool:
    """A goroutine of a synctest bubble never moves to another P: its bubble's
    driver runs its timers and watches it from its P's thread (clock.bubble
    is in the context go() gave it)."""
    ctx = g.context
    return ctx is not None and _clock.bubble in ctx


def _pick_target(victim: P) -> P | None:
    """An idle P; else a new P while fewer than max_procs run goroutines;
    else the busy P, not stuck itself, with the shortest run queue."""
    pool = sorted((p for p in list(_sched._all_ps) if p.id == 0 or p.g1 is None), key=_pid)
    # After max_procs was lowered, the Ps beyond it take no more work.
    others = [
        p
        for p in pool[: _sched.procs]
        if p is not victim and p.kill_req is None and not p.killing
    ]
    for p in others:
        if p.sleeping:
            return p
    if len(pool) < _sched.procs and not _exit._exiting:
        if _proc._bg_p is None:
            return _proc.background_p()
        return _proc.start_p(f"goroutines-p{len(pool)}")
    best: P | None = None
    for p in others:
        w = _watches.get(p)
        if w is not None and w.tick == p.schedtick and w.same >= 1:
            continue  # stuck too
        if best is None or len(p.runq) < len(best.runq):
            best = p
    return best


def _pid(p: P) -> int:
    return p.id


# ---------------------------------------------------------------------------
# The stuck-thread report


def _report(p: P, frame: FrameType, ran: float) -> None:
    g = p.curg
    if g is None:
        return
    stack = dump_stack(frame)
    if stack:
        where = stack[1].strip()
        path, _, lineno = where.rpartition(":")
        site = (path, int(lineno) if lineno.isdigit() else 0)
        line = linecache.getline(site[0], site[1]).strip()
    else:
        # The goroutine's own function is the call (go(time.sleep, 5)).
        fn = g.fn
        name = f"{getattr(fn, '__module__', None) or '?'}.{getattr(fn, '__qualname__', repr(fn))}"
        site = (name, 0)
        line = name + "(...)"
        stack = [f"{name}(...)\n", "\t(the goroutine's function)\n"]
    if site in _reported_sites:
        return
    _reported_sites.add(site)
    what = f"has blocked its thread outside the runtime for {ran:.2f}s"
    fix = _fix_for(line)
    runnable = len(p.runq) + len(p.inbound) + len(p.timerq) + (p.runnext is not None)
    waits = [f"{runnable} runnable goroutine(s)"] if runnable else []
    if p.timers and p.timers[0][0] <= monotonic():
        waits.append("a due timer")
    try:
        sys.stderr.write(
            f"goroutines: goroutine {g.id} [{g.name}] {what} while "
            f"{' and '.join(waits) or 'other work'} of P{p.id} wait(s) for it:\n"
            f"{''.join(stack)}  at: {line}\n  fix: {fix}\n"
        )
        sys.stderr.flush()
    except Exception:  # pragma: no cover - stderr closed
        pass


def _fix_for(line: str) -> str:
    if "sleep(" in line:
        return "use goroutines.sleep(seconds): time.sleep blocks every goroutine of the thread"
    if any(k in line for k in ("recv", "accept", "connect", "send", "socket", "urlopen", "requests.")):
        return "use goroutines.net, or wrap the call in goroutines.blocking(fn, *args)"
    return "wrap the call in goroutines.blocking(fn, *args) so only this goroutine waits"


# ---------------------------------------------------------------------------
# Exit and fork


def _stop() -> None:
    """At exit (before the Ps park for it): stop the monitor."""
    global _stopping
    _stopping = True
    _wake.set()
    t = _thread
    if t is not None and t is not threading.current_thread():
        t.join(0.1)


def _after_fork_child() -> None:
    global _thread, _wake, _start_lock
    _thread = None
    _wake = threading.Event()
    _start_lock = threading.Lock()
    _watches.clear()


_proc._sysmon_start = start
atexit.register(_stop)  # runs before exit.py's (registered earlier: LIFO)

__all__ = ["ENABLED", "handoff", "on_tick", "start"]
