"""preempt: switching out a goroutine that has run too long (Go's preemption).

The monitor thread (sysmon) calls request(p) when p's running goroutine has
run without a schedule point for too long, and cancel(p) when it parked on
its own. A request arms ``sys.monitoring`` events (LINE and JUMP) on the
program's own code objects that p's thread has on its stack; the callback
(the accelerator's preempt_event, twin: _event) runs on every thread that
runs armed code, acts only on p's thread, and at the first safe point puts
the goroutine at the back of p's run queue and runs the next one, as
gosched() would (_switch_out). Then the events are disarmed: no cost while
nothing is requested.

A safe point is an event in the program's own code (not the standard
library, not site-packages, not goroutines itself) whose whole stack, up to
the goroutine's bottom (proc._worker; for goroutine 1 the main script's
module frame), is the program's own code: never
during an import, never inside the runtime (its Python frames are on the
stack) or inside a port of the accelerator (a finalizer run from inside a C
channel operation that holds the channel's lock: _speedups' accel_depth),
never in a standard-library frame that may hold a threading lock (logging's
RLock) or the import lock. A goroutines.Mutex held by the program does not
matter (the next goroutine that wants it parks, as in Go). Nor is a thread
preempted while a trace function is set on it (a debugger stepping through a
goroutine stays in it).

Where it works: CPython 3.12+ (sys.monitoring) with the accelerator's port
"preempt". The callback must switch greenlets with the thread's tracing
counter left (PyThreadState_LeaveTracing), which Python code cannot do, so
the pure path preempts nothing; nor does 3.11, which has no sys.monitoring.
GOROUTINES_PREEMPT=0 turns preemption off (Go's GODEBUG=asyncpreemptoff=1).

Invariants: _lock (a leaf of sched.py's lock order) guards _requests,
_armed and _codes; it is taken by the monitor thread (request, cancel) and by
p's thread only in cancel, from _point after the stack walk found no frame of
the runtime (so never re-entered by a finalizer run under it). A request is
consumed (cancelled) before the switch, so the goroutines that run next on
p's thread are not preempted by it. The switch happens only on p's own
thread, from its running goroutine's greenlet, with p's queues touched only
there (sched.py's rules).
"""

from __future__ import annotations

import os
import sys
import sysconfig
import threading
from types import CodeType, FrameType
from typing import Any

from greenlet import getcurrent

from . import accel, timers
from . import dump as _dump
from . import events as _ev
from . import proc as _proc
from . import sched as _sched
from . import sysmon as _sysmon
from .g import RUNNABLE, RUNNING, G
from .netpoll import poll as _poll
from .panic import sigint_watch
from .proc import _drain_inbound, _find_runnable, _switch_to
from .proc import run as _run
from .sched import P, tls

# The accelerator while its port "preempt" is on (accel.py), else None.
speedups: Any = accel.port("preempt")

_monitoring: Any = getattr(sys, "monitoring", None)  # CPython 3.12+
_enabled = os.environ.get("GOROUTINES_PREEMPT", "").strip() != "0"

TOOL_NAME = "goroutines-preempt"
# sys.monitoring tool ids tried in turn: 3 and 4 have no conventional owner
# (0 debugger, 1 coverage, 2 profiler, 5 optimizer).
_TOOL_IDS = (4, 3)
_tool: int | None = None
_events = 0
if _monitoring is not None:
    _events = _monitoring.events.LINE | _monitoring.events.JUMP

MAX_STACK = 256  # frames looked at by request() and by the safe-point check

_lock = threading.Lock()
_requests: dict[P, int] = {}  # a requested P -> its schedtick at the request
_armed: dict[CodeType, set[P]] = {}  # an armed code object -> the Ps that want it
_codes: dict[P, set[CodeType]] = {}  # a requested P -> the code objects it armed


def supported() -> bool:
    """Whether goroutines can be preempted in this process: CPython 3.12+,
    the accelerator's port "preempt", and GOROUTINES_PREEMPT is not 0."""
    return _enabled and speedups is not None and _monitoring is not None


def _dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    out = {os.path.join(paths[k], "") for k in ("stdlib", "platstdlib") if k in paths}
    # goroutines itself (wherever it is installed, an editable checkout too).
    out.add(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ""))
    return tuple(sorted(out))


_NOT_OWN_DIRS = _dirs()
_own_files: dict[str, bool] = {}


def own_code(code: CodeType) -> bool:
    """Whether code is the program's own: not the standard library, not
    site-packages, not goroutines, not frozen (importlib)."""
    filename = code.co_filename
    own = _own_files.get(filename)
    if own is None:
        if filename.startswith("<"):
            own = not filename.startswith("<frozen")  # <string>, <stdin>: the program
        else:
            own = not (
                "site-packages" in filename
                or "dist-packages" in filename
                or os.path.abspath(filename).startswith(_NOT_OWN_DIRS)
            )
        _own_files[filename] = own
    return own


# Functions of goroutines that only call the program's function in the
# goroutine they start or under a goroutines.Mutex (WaitGroup.go's and
# errgroup's goroutine, Once.do): a safe point may have them below it.
_callers: set[CodeType] = set()


def register_callers(*codes: CodeType) -> None:
    """Mark codes of goroutines as mere callers of the program's code (they
    hold no runtime lock and leave nothing half-done while it runs)."""
    _callers.update(codes)


register_callers(_run.__code__)  # run(main): main is goroutine 1's code


def _safe(frame: FrameType | None) -> bool:
    """Whether every frame from frame to the goroutine's bottom is the
    program's own code (see the module's docstring)."""
    roots = _dump._roots
    for _ in range(MAX_STACK):
        if frame is None:
            # Code run with no frame of the goroutine below it: a finalizer
            # run from C while a greenlet starts or switches (half-done).
            return False
        code = frame.f_code
        if code in roots:
            return True
        if not own_code(code) and code not in _callers:
            return False
        if code.co_name == "<module>":
            # The main script's body (below it: the interpreter's launcher,
            # runpy); any other module's body runs under an import.
            return frame.f_globals.get("__name__") == "__main__"
        frame = frame.f_back
    return False


def _claim_tool() -> bool:
    """Take a free sys.monitoring tool id and register the callback (under _lock)."""
    global _tool
    if _tool is not None:
        return True
    for tool in _TOOL_IDS:
        if _monitoring.get_tool(tool) is None:
            try:
                _monitoring.use_tool_id(tool, TOOL_NAME)
            except ValueError:
                continue
            callback = speedups.preempt_event
            _monitoring.register_callback(tool, _monitoring.events.LINE, callback)
            _monitoring.register_callback(tool, _monitoring.events.JUMP, callback)
            _tool = tool
            return True
    return False


def request(p: P) -> None:
    """Ask p's thread to switch its running goroutine out at the next safe
    point (any thread; cheap, idempotent). Arms the events on the program's
    code objects now on p's stack; a repeated request adds those that came
    since."""
    if not supported():
        return
    frame = _dump.current_frames().get(p.ident)
    codes: list[CodeType] = []
    for _ in range(MAX_STACK):
        if frame is None:
            break
        code = frame.f_code
        if code in _dump._roots:
            break
        if own_code(code):
            codes.append(code)
        frame = frame.f_back
    del frame
    tick = p.schedtick
    with _lock:
        if not _claim_tool():
            return
        if p not in _requests:
            if not speedups.preempt_arm(p.ident):
                return
            _requests[p] = tick
            _codes[p] = set()
        if p not in _sched._all_ps:
            # Detached meanwhile (run() on its thread returned): proc's
            # _p_detached hook removes it from _all_ps first, then cancels
            # under _lock, so either that cancel or this check sees the
            # request. Never leave one behind on a P nobody watches.
            _requests.pop(p, None)
            _codes.pop(p, None)
            speedups.preempt_disarm(p.ident)
            return
        mine = _codes[p]
        for code in codes:
            if code in mine:
                continue
            ps = _armed.get(code)
            if ps is None:
                ps = _armed[code] = set()
                _monitoring.set_local_events(_tool, code, _events)
            ps.add(p)
            mine.add(code)


def cancel(p: P) -> None:
    """Disarm p's request, if any (any thread): its goroutine parked on its
    own, or was switched out."""
    if p not in _requests:
        return
    with _lock:
        if _requests.pop(p, None) is None:
            return
        speedups.preempt_disarm(p.ident)
        for code in _codes.pop(p, ()):
            ps = _armed.get(code)
            if ps is None:
                continue
            ps.discard(p)
            if not ps:
                del _armed[code]
                _monitoring.set_local_events(_tool, code, 0)


def requested(p: P) -> bool:
    """Whether a preemption of p is requested and not yet done or cancelled."""
    return p in _requests


def _point() -> P | None:
    """On a requested thread, in an armed event (tracing raised): the P to
    switch, if this is a safe point; the request is consumed then."""
    p = tls.p
    if p is None:
        return None
    tick = _requests.get(p)
    if tick is None:
        return None
    g = p.curg
    if g is None or g.greenlet is not getcurrent() or g.state != RUNNING or p.killing:
        return None  # not a goroutine's own greenlet (an asyncio operation's)
    if sys.gettrace() is not None:
        return None  # a debugger steps through this thread: stay in its goroutine
    if not _safe(sys._getframe(1)):
        return None
    cancel(p)
    if p.schedtick != tick:
        return None  # it scheduled on its own since the request
    return p


def _switch_out(p: P) -> None:
    """Preempt p's running goroutine: run p's due timers and ready I/O, put
    the goroutine at the back of the run queue and run the next one (Go's
    gopreempt_m, then schedule()). Returns when it runs again, at once if
    nothing else is runnable."""
    g = p.curg
    if p.inbound:
        _drain_inbound(p)
    if p.timers:
        timers.run_due(p)
    if p.nio:
        _poll(p, 0.0)
    if not (p.runq or p.timerq or p.runnext is not None or p.inbound or _sched.attention):
        # Nothing else to run: g goes on, in a new time slice (the monitor
        # counts from a schedule, as Go's sysmon counts from schedtick).
        p.schedtick += 1
        return
    _emit(_ev.PREEMPT, g)
    g.state = RUNNABLE
    p.runq.append(g)
    nxt = _find_runnable(p)
    if nxt is g:
        g.state = RUNNING
        p.curg = g
    else:
        _switch_to(p, nxt)
    _emit(_ev.RESUME, g)


def _emit(kind: int, g: G | None) -> None:
    """The event layer's hook for the switch above (a separate call: the
    switch stays as it was when nobody traces)."""
    h = _ev.hook
    if h is not None:
        h(kind, g, None)


def _event(*args: Any) -> None:
    """The callback of the armed events (the accelerator's preempt_event
    mirrors this): on a requested thread, at a safe point, switch out. Never
    returns DISABLE. Python code cannot leave the thread's tracing counter
    around the switch (see the module's docstring), so only the C port is
    ever registered."""
    if not _threads or threading.get_ident() not in _threads:
        return None
    p = _point()
    if p is not None:
        _switch_out(p)
    return None


_threads: set[int] = set()  # the twin's requested threads (preempt_arm's C array)


def _arm_thread(ident: int) -> bool:
    """Twin of the accelerator's preempt_arm."""
    if ident in _threads:
        return True
    if len(_threads) == 256:
        return False
    _threads.add(ident)
    return True


def _disarm_thread(ident: int) -> None:
    """Twin of the accelerator's preempt_disarm."""
    _threads.discard(ident)


def _after_fork_in_child() -> None:
    """The child keeps no request (the parent's Ps and threads are gone);
    _lock may have been held by a thread that the child does not have."""
    global _lock
    _lock = threading.Lock()
    for p in list(_requests):
        cancel(p)


os.register_at_fork(after_in_child=_after_fork_in_child)

if speedups is not None:
    accel.setup("preempt", point=_point, switch=_switch_out)

# sysmon (before this module in the import order) asks for preemptions and
# watches for a SIGINT that cannot reach goroutine 1. Registered even where
# preemption is off: the Ctrl-C watch does not need it.
_sysmon.request_preempt = request
_sysmon.cancel_preempt = cancel
_proc._p_detached = cancel
_sysmon.on_tick(sigint_watch)

__all__ = [
    "MAX_STACK",
    "TOOL_NAME",
    "cancel",
    "own_code",
    "register_callers",
    "request",
    "requested",
    "supported",
]
