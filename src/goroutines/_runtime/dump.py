"""dump(): every goroutine's state and stack, in the layout of Go's SIGQUIT dump.

    goroutine 1 [chan receive]:
    __main__.main(...)
        /path/prog.py:12
    ...

    goroutine 7 [chan send]:
    __main__.worker(...)
        /path/prog.py:5
    created by __main__.main in goroutine 1
        /path/prog.py:10

(Each FILE:LINE line starts with a tab.) Innermost call first, as Go prints it. Frames of the runtime's internals
(``goroutines._runtime``) are left out; the public call a goroutine is blocked
in (``goroutines._chan.Chan.recv``) stays, like Go's ``runtime.chanrecv``.
"""

from __future__ import annotations

import gc
import sys
from time import monotonic
from types import CodeType, FrameType

from greenlet import getcurrent

from .accel import port as _accel_port
from .g import DEAD, RUNNING, WAITING, G, allgs

_INTERNAL = "goroutines._runtime"
_PROC = "goroutines._runtime.proc"

# The code of the functions at the bottom of the runtime's greenlets (a
# worker, a P's g0), registered by the scheduler. A greenlet's bottom frame
# links (f_back) to the frame that first switched into it, which may have
# returned since: its slot on the interpreter's data stack is reused, and a
# walk that follows the link reads a dead frame (CPython 3.11 crashes). Walks
# stop at these frames; everything below them is the runtime's, never shown.
_roots: set[CodeType] = set()


def register_roots(*codes: CodeType) -> None:
    """Mark codes as greenlet bottoms: stack walks never go below them."""
    _roots.update(codes)


def _frame_lines(frame: FrameType | None) -> list[str]:
    lines: list[str] = []
    while frame is not None:
        mod = frame.f_globals.get("__name__", "?")
        if not (isinstance(mod, str) and mod.startswith(_INTERNAL)):
            code = frame.f_code
            lines.append(f"{mod}.{code.co_qualname}(...)")
            lines.append(f"\t{code.co_filename}:{frame.f_lineno}")
        if frame.f_code in _roots:
            break
        frame = frame.f_back
    return lines


def _from_park(frame: FrameType | None) -> FrameType | None:
    """For a G that is not running but whose greenlet is live (its P idles in
    the selector on it, runs a timer or a signal handler there), the frames
    inner to the scheduler's loop (selectors, timer callbacks, handlers) are
    not the G's: start at the loop, which the parking G called."""
    f = frame
    while f is not None:
        if f.f_code.co_name == "_find_runnable" and f.f_globals.get("__name__") == _PROC:
            return f
        if f.f_code in _roots:
            break
        f = f.f_back
    return frame


def _stack_of(g: G, here: FrameType | None) -> list[str]:
    gr = g.greenlet
    if gr is None:
        fn = g.fn
        name = getattr(fn, "__qualname__", None) or repr(fn)
        mod = getattr(fn, "__module__", None) or "?"
        return [f"{mod}.{name}(...)", "\t(not started)"]
    if gr is getcurrent():
        return _frame_lines(here if g.state == RUNNING else _from_park(here))
    if gr.dead:
        return []
    frame = gr.gr_frame
    if frame is None and g.p is not None:
        # Live on another thread right now.
        if g.state == RUNNING:
            # As Go says: its frames change under the walk (and a walk that
            # meets a frame being popped reads freed memory).
            return ["\tgoroutine running on other thread; stack unavailable"]
        return _parked_on_other_thread(g.p.ident)
    return _frame_lines(frame)


def current_frames() -> dict[int, FrameType]:
    """sys._current_frames() with the cycle collector off. CPython holds its
    thread-list lock while it builds that dict; a collection started by one
    of its allocations runs finalizers and weakref callbacks, Python code
    that may hand the GIL to a thread that then waits for the same lock to
    start or end (thread state creation and deletion take it): a deadlock
    (seen on 3.11 with a thread ending while another sampled frames)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return sys._current_frames()
    finally:
        if enabled:
            gc.enable()


# The switch interval while the dump walks another thread's stack: long
# enough that the GIL is not handed to that thread in the middle of the walk.
_HOLD_GIL = 1.0


def _parked_on_other_thread(ident: int) -> list[str]:
    """The stack of a parked G whose greenlet is still the current one of
    its P's thread (the P idles in it, in _find_runnable). The walk must not
    let that thread run: resumed, it could pop or free the frames being
    read. A long switch interval keeps the GIL here for the few microseconds
    of the walk (a thread that was already waiting may still ask for it once;
    the walk is too short for that to be likely, and dump() is rare)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(_HOLD_GIL)
    try:
        return _frame_lines(_from_park(current_frames().get(ident)))
    finally:
        sys.setswitchinterval(old)


def dump_stack(frame: FrameType) -> list[str]:
    """The stack from frame (another thread's top frame, that thread outside
    the runtime), one line per entry, held like _parked_on_other_thread."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(_HOLD_GIL)
    try:
        return [line + "\n" for line in _frame_lines(frame)]
    finally:
        sys.setswitchinterval(old)


# wait reason -> (module, code) of the Python function a goroutine parked
# with that reason is blocked in when the accelerator runs its C port
# instead: registered by the module above that defines it (the channel's
# send and recv), so that the core imports nothing above it.
_op_frames: dict[str, tuple[str, CodeType]] = {}


def register_op_frame(wait_reason: str, module: str, code: CodeType) -> None:
    """Name ``module.<code's qualname>`` as the frame of a goroutine parked
    with wait_reason by an accelerated operation (see _accelerated_op)."""
    _op_frames[wait_reason] = (module, code)


def _accelerated_op(g: G, lines: list[str]) -> list[str]:
    """With the accelerator, Chan.send/recv/recv_ok are C functions: no Python
    frame shows the channel operation a goroutine is parked in. Name it, as
    Go's runtime.chansend/chanrecv frames do, at the line of its Python twin."""
    if _accel_port("chan") is None or g.state != WAITING:
        return lines
    op = _op_frames.get(g.wait_reason)
    if op is None:
        return lines
    module, code = op
    if lines and lines[0].startswith(module + "."):
        return lines
    where = f"\t{code.co_filename}:{code.co_firstlineno}"
    return [f"{module}.{code.co_qualname}(...)", where, *lines]


def goroutine_header(g: G) -> str:
    """``goroutine 7 [chan send]:``; a goroutine on another P than goroutine
    1's says which (``[chan send, P2]``), and one that has held its thread
    past the block-report threshold says for how long (sysmon sets p.stuck)."""
    what = g.wait_reason if g.state == WAITING else g.state
    p = g.p
    if p is not None:
        if p.id != 0:
            what += f", P{p.id}"
        stuck = p.stuck
        if stuck is not None and stuck[2] == p.schedtick and p.curg is g and g.state == RUNNING:
            how = "blocked in C" if stuck[1] else "running without yielding"
            what += f", {how} for {monotonic() - stuck[0]:.1f}s"
    return f"goroutine {g.id} [{what}]:"


def dump(first: G | None = None) -> str:
    """Every goroutine with its id, state, wait reason, stack and creation site.

    ``first`` (default: the caller) is listed first, then the rest by id.
    """
    here = sys._getframe(1)
    cur = getcurrent()
    gs = sorted((g for g in list(allgs.values()) if g.state != DEAD), key=lambda g: g.id)
    if first is None:
        gs.sort(key=lambda g: g.greenlet is not cur)  # stable: the caller first
    else:
        gs.sort(key=lambda g: g is not first)
    modules = {
        getattr(m, "__file__", None): name for name, m in list(sys.modules.items())
    }
    blocks: list[str] = []
    for g in gs:
        lines = [goroutine_header(g)]
        lines.extend(_accelerated_op(g, _stack_of(g, here)))
        code = g.created_code
        if code is not None:
            mod = modules.get(code.co_filename, "?")
            lines.append(f"created by {mod}.{code.co_qualname} in goroutine {g.parent_id}")
            lines.append(f"\t{code.co_filename}:{g.created_line}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
