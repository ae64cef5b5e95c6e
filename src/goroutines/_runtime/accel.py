"""The optional C accelerator: its ports, their Python twins, and which are on.

The extension ``goroutines._runtime._speedups`` (C sources in ``_speedups/``,
one file per port behind the internal header ``_speedups.h``) ports the
hottest paths and supplies the lock type of park tokens, channels and the sync
primitives. PORTS below is the one registry of what it ports: for each port,
the functions it adds to the extension, the Python twin of each C function
(the reference, which the C code calls for every case it leaves to Python),
the ``__slots__`` whose offsets its setup receives (C holds no slot names:
the module that wires a port passes the descriptors through :func:`setup`),
and the ports it needs. ``tests/test_twins.py`` pins a hash of each twin's
code: a change to a twin fails it until its C port has been read again and
the new hash pasted here.

Adding a port: write the C file (its functions, a ``<name>_methods`` table
that module.c adds, a ``setup_<name>(slots, **objects)`` that takes its
offsets with ``slot_offsets`` from a ``<name>_slots`` table commented
``/* Class.slot */`` line by line), open each C function with ``Twin:`` and
what it leaves to Python, add the Port here (an empty hash fails the test
with the one to paste), and wire it in one block at the end of the module
that defines its twins: ``if accel.port(name) is not None:
accel.wire(name, ...)``.

The Python code stays the reference and the fallback. It runs where the
extension was not built (no compiler, a free-threaded interpreter), and for
the ports the environment variable GOROUTINES_PURE names before goroutines is
imported: ``1`` for all of them, or a comma-separated list of port names
(``GOROUTINES_PURE=chan,select``) to narrow a difference between the paths
to one port. A port whose Python twin runs turns off the ports that need it.
Both paths run the same test suite.

The extension keeps its state in C statics shared by the whole process, so
it serves the main interpreter only: in a subinterpreter it refuses to load
(or, loaded by the main one first, is not used), and goroutines runs its
pure-Python runtime there.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Twin:
    """A Python function (``"module:Qual.name"``) a port mirrors, the C
    functions (in ``_speedups/*.c``) that mirror it, and the pinned hash of
    the twin's code (see ``twin_hash``)."""

    python: str
    c: tuple[str, ...]
    hash: str


@dataclass(frozen=True)
class Port:
    """One port of the accelerator.

    functions: what it adds to the extension. slots: ``(class, names)``
    pairs, the classes as ``"module:Name"``; their descriptors go to the
    port's ``setup_<name>`` in this order, the order of the offset table in
    its C file (``<name>_slots``), which checks their count. A port also
    reads the slots of the ports it needs. needs: the ports it relies on.
    """

    name: str
    functions: tuple[str, ...]
    twins: tuple[Twin, ...]
    slots: tuple[tuple[str, tuple[str, ...]], ...] = ()
    needs: tuple[str, ...] = ()


_W = "goroutines._runtime.waiter"
_S = "goroutines._runtime.sched"
_PROC = "goroutines._runtime.proc"
_PRE = "goroutines._runtime.preempt"
_NET = "goroutines.net"
_NP = "goroutines._runtime.netpoll"

PORTS: dict[str, Port] = {
    p.name: p
    for p in (
        Port(
            "lock",
            functions=("Lock",),
            twins=(Twin(f"{_W}:Lock", ("Lock_acquire", "lock_acquire_slow"), "201df0c5a24897c9"),),
        ),
        Port(
            "sched",
            functions=(
                "setup_sched",
                "set_p",
                "set_attention",
                "set_trace_hook",
                "rec_start",
                "rec_record",
                "rec_stop",
                "rec_take",
                "ready",
                "park_g",
                "gwaiter_wake",
            ),
            twins=(
                Twin(f"{_S}:set_p", ("sp_set_p",), "f62886d01647e02f"),
                Twin(
                    f"{_S}:_set_attention", ("sp_set_attention", "is_attention"), "e373c0a7f19d3e7e"
                ),
                Twin("goroutines._runtime.events:_publish", ("sp_set_trace_hook",), "f0579aefab683324"),
                Twin("goroutines._runtime.events:rec_start", ("sp_rec_start",), "be9e9d5ddb32512b"),
                Twin("goroutines._runtime.events:rec_record", ("sp_rec_record", "rec_write"), "69bebbb06d94be30"),
                Twin("goroutines._runtime.events:rec_stop", ("sp_rec_stop",), "bb1260d640521386"),
                Twin("goroutines._runtime.events:rec_take", ("sp_rec_take",), "0cbad381824bac6c"),
                Twin(f"{_PROC}:ready", ("ready_impl", "trace_emit"), "fe20764334356e3a"),
                Twin(f"{_W}:GWaiter.wake", ("sp_gwaiter_wake", "wake"), "62ede71b4f3d12f2"),
                Twin(f"{_PROC}:park_g", ("park_g_impl",), "113a71315f19d4b4"),
                Twin(
                    f"{_PROC}:_find_runnable",
                    ("find_runnable_fast", "park_g_impl"),
                    "0691786bd2027147",
                ),
                Twin(f"{_PROC}:_switch_to", ("switch_to_impl",), "91752a95b822f0a2"),
            ),
            slots=(
                (f"{_W}:Waiter", ("token", "elem", "value", "ok", "done", "case", "chan")),
                (f"{_W}:GWaiter", ("g",)),
                (
                    "goroutines._runtime.g:G",
                    ("id", "state", "wait_reason", "token", "greenlet", "throw_exc", "p", "waiter"),
                ),
                (
                    f"{_S}:P",
                    (
                        "g1",
                        "ident",
                        "runnext",
                        "runq",
                        "inbound",
                        "sleeping",
                        "schedtick",
                        "streak",
                        "killing",
                        "curg",
                        "free_workers",
                        "g0",
                        "timerq",
                    ),
                ),
            ),
        ),
        Port(
            "go",
            functions=("setup_go", "setup_public_go", "sched_go", "go"),
            twins=(
                Twin(f"{_PROC}:go", ("sp_sched_go", "go_p", "new_g"), "e99141e4e6ab8185"),
                Twin("goroutines._go:go", ("sp_go", "go_p", "new_g"), "b5365e9bdb0a6bf2"),
                Twin("goroutines._runtime.g:G.__init__", ("new_g",), "7cbaf4435147a17b"),
            ),
            slots=(
                (
                    "goroutines._runtime.g:G",
                    ("fn", "args", "context", "parent_id", "created_code", "created_lasti"),
                ),
            ),
            needs=("sched",),
        ),
        Port(
            "chan",
            functions=(
                "setup_chan",
                "chan_init",
                "chan_send",
                "chan_recv",
                "chan_recv_ok",
                "chan_iter",
                "chan_bubbles",
            ),
            twins=(
                Twin("goroutines._chan:Chan.__init__", ("sp_chan_init",), "38ebb7d133fa72f7"),
                Twin(
                    "goroutines._chan:Chan.send",
                    ("sp_chan_send", "pop_partner", "park_on"),
                    "a170b16848efaddc",
                ),
                Twin(
                    "goroutines._chan:Chan.recv",
                    ("sp_chan_recv", "chan_recv_impl"),
                    "fc091f4ddbfc1316",
                ),
                Twin(
                    "goroutines._chan:Chan.recv_ok",
                    ("sp_chan_recv_ok", "chan_recv_impl"),
                    "716b97a248df11e4",
                ),
                Twin("goroutines._chan:Chan._refill", ("chan_recv_impl",), "ea297b2bc2bb8efc"),
                Twin(
                    "goroutines._chan:Chan._recv_block",
                    ("chan_recv_impl", "park_on"),
                    "7b7047b0940c6245",
                ),
                Twin(
                    "goroutines._chan:Chan.__iter__",
                    ("sp_chan_iter", "ChanIter_next"),
                    "2f706721f2fcc1f0",
                ),
                Twin(f"{_W}:GWaiter.__init__", ("goroutine_waiter",), "1a700ede6dd76221"),
                Twin("goroutines._chan:check_bubble", ("bubble_check",), "523d5a1bb80d94fe"),
            ),
            slots=(
                (
                    "goroutines._chan:Chan",
                    ("_lock", "_buf", "_cap", "_closed", "_recvq", "_sendq", "_timer", "_bubble"),
                ),
            ),
            needs=("sched", "lock"),
        ),
        Port(
            "select",
            functions=(
                "setup_select",
                "setup_cases",
                "select",
                "case_recv",
                "case_recv_ok",
                "case_send",
                "set_select_traced",
            ),
            twins=(
                Twin(
                    "goroutines._select:select", ("sp_select", "select_pass3"), "43cc8b69549f4e62"
                ),
                Twin("goroutines._select:recv", ("sp_case_recv",), "89bd6763d9d7b3aa"),
                Twin("goroutines._select:recv_ok", ("sp_case_recv_ok",), "1a8ee0bfd38a328f"),
                Twin("goroutines._select:send", ("sp_case_send",), "e78ce116263a3a00"),
            ),
            needs=("chan",),
        ),
        Port(
            "waitgroup",
            functions=("setup_waitgroup", "wg_add", "wg_done"),
            twins=(
                Twin(
                    "goroutines._sync.waitgroup:WaitGroup.add",
                    ("sp_wg_add", "wg_add_fast"),
                    "59878233c313a587",
                ),
                Twin(
                    "goroutines._sync.waitgroup:WaitGroup.done",
                    ("sp_wg_done", "wg_add_fast"),
                    "b59097fcb4c837ee",
                ),
            ),
            slots=(("goroutines._sync.waitgroup:WaitGroup", ("_lock", "_count", "_waiters")),),
            needs=("sched", "lock"),
        ),
        Port(
            "preempt",
            functions=(
                "setup_preempt",
                "preempt_event",
                "preempt_arm",
                "preempt_disarm",
                "accel_depth",
            ),
            twins=(
                Twin(f"{_PRE}:_event", ("sp_preempt_event",), "1e0ecbc2c8826bef"),
                Twin(f"{_PRE}:_arm_thread", ("sp_preempt_arm",), "4a8c47910d438375"),
                Twin(f"{_PRE}:_disarm_thread", ("sp_preempt_disarm",), "115758208eaa07f6"),
            ),
        ),
        Port(
            "net",
            functions=("setup_net", "conn_read", "conn_write"),
            twins=(
                Twin(
                    f"{_NET}._conn:Conn.read",
                    ("sp_conn_read", "check_deadline", "np_wait"),
                    "34b5d1040746ac39",
                ),
                Twin(f"{_NET}._conn:Conn._wait_drained", ("sp_conn_read",), "97063079f7899561"),
                Twin(
                    f"{_NET}._conn:Conn.write",
                    ("sp_conn_write", "check_deadline", "np_wait", "annotate_written"),
                    "96ba2a426d9ec91f",
                ),
                Twin(f"{_NET}._fd:_FdMutex.rwlock", ("fd_rwlock_fast",), "4db4c1ce7562c4d1"),
                Twin(f"{_NET}._fd:_FdMutex.rwunlock", ("fd_rwunlock_fast", "fd_unlock"), "188fca129a2838b7"),
                Twin(f"{_NET}._fd:_expired", ("check_deadline",), "888acb73e39a553f"),
                Twin(f"{_NET}._fd:_short", ("annotate_written",), "3f64a501bfde0b35"),
            ),
            slots=(
                (f"{_NET}._conn:Conn", ("_mu", "_pd", "_drained")),
                (
                    f"{_NET}._fd:_FdMutex",
                    ("lock", "refs", "closing", "rlocked", "wlocked", "rq", "wq"),
                ),
                ("goroutines._runtime.netpoll:PollDesc", ("fd", "rhup", "rdeadline", "wdeadline")),
            ),
            needs=("sched", "lock"),
        ),
        Port(
            "netpoll",
            functions=("setup_netpoll", "np_wait", "np_dispatch"),
            twins=(
                Twin(f"{_NP}:wait", ("sp_np_wait",), "f4cdbfe2c79ac70c"),
                Twin(f"{_NP}:_g_wait", ("sp_np_wait", "new_gwaiter", "list_discard"), "8e08e48c38052188"),
                Twin(f"{_NP}:_dispatch", ("sp_np_dispatch", "take_direction", "wake_direction"), "febd93b541bd7610"),
                Twin(f"{_NP}:_wake_all", ("wake_all",), "80c80d3d66555a9f"),
                Twin(f"{_W}:GWaiter.__init__", ("new_gwaiter",), "1a700ede6dd76221"),
            ),
            slots=(
                (
                    f"{_NP}:PollDesc",
                    (
                        "lock",
                        "closing",
                        "rready",
                        "wready",
                        "rhup",
                        "rwaiters",
                        "wwaiters",
                        "rthreads",
                        "wthreads",
                        "rdeadline",
                        "wdeadline",
                    ),
                ),
                (f"{_S}:P", ("nio",)),
            ),
            needs=("sched", "lock"),
        ),
        # No twin: without it the interpreter's own allocator serves the
        # frame stacks (GOROUTINES_ARENA=0 does the same).
        Port("arena", functions=("cache_frame_stacks", "frame_stack_cache"), twins=()),
    )
}


def _pure_ports(value: str) -> set[str]:
    """The ports GOROUTINES_PURE=value turns off, with the ports needing them."""
    value = value.strip()
    if value in ("", "0"):
        return set()
    if value == "1":
        return set(PORTS)
    names = {n.strip() for n in value.split(",") if n.strip()}
    unknown = sorted(names - set(PORTS))
    if unknown:
        raise ValueError(
            f"GOROUTINES_PURE={value!r}: no port named {', '.join(map(repr, unknown))}; "
            f"use 1 (every port) or a comma-separated list of {', '.join(PORTS)}"
        )
    off = set(names)
    changed = True
    while changed:
        changed = False
        for port in PORTS.values():
            if port.name not in off and off.intersection(port.needs):
                off.add(port.name)
                changed = True
    return off


def _load() -> tuple[Any, frozenset[str]]:
    off = _pure_ports(os.environ.get("GOROUTINES_PURE", ""))
    if off == set(PORTS):
        return None, frozenset()
    try:
        ext = importlib.import_module("goroutines._runtime._speedups")
    except ImportError:  # not built here, or a subinterpreter: the pure-Python runtime
        return None, frozenset()
    if getattr(ext, "in_main_interpreter", None) is None or not ext.in_main_interpreter():
        return None, frozenset()  # (the first: the C sources' directory, no extension)
    return ext, frozenset(set(PORTS) - off)


# The extension while any port is on, else None; _active: the ports on.
speedups: Any
_active: frozenset[str]
speedups, _active = _load()


def active_ports() -> frozenset[str]:
    """The names of the ports in use (empty on the pure-Python path)."""
    return _active


def port(name: str) -> Any:
    """The extension if port name is on, else None."""
    if name not in PORTS:
        raise KeyError(f"no port named {name!r}; the ports are {', '.join(PORTS)}")
    return speedups if name in _active else None


def lock_type(name: str) -> Any:
    """The lock class for a structure whose lock port name's C code takes:
    the accelerator's Lock while the port is on (C takes it without Python),
    else threading.Lock."""
    if port(name) is not None:
        return speedups.Lock
    return threading.Lock


def slot_descriptors(name: str) -> tuple[Any, ...]:
    """The ``__slots__`` descriptors of port name's slots, in its C order."""
    out: list[Any] = []
    for cls_name, slots in PORTS[name].slots:
        cls = resolve(cls_name)
        out.extend(_own_descriptor(cls, s) for s in slots)
    return tuple(out)


def _own_descriptor(cls: type, slot: str) -> Any:
    for base in cls.__mro__:
        if slot in vars(base):
            return vars(base)[slot]
    raise AttributeError(f"{cls.__qualname__} has no slot {slot!r} (accel.PORTS)")


def resolve(qualified: str) -> Any:
    """The object named ``"module:Qual.name"`` (imported)."""
    mod_name, _, qual = qualified.partition(":")
    obj: Any = importlib.import_module(mod_name)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


def setup(name: str, **objects: Any) -> Any:
    """Call port name's ``setup_<name>`` with its slot descriptors (from the
    registry) and objects, everything it uses, by keyword; the extension."""
    getattr(speedups, f"setup_{name}")(slot_descriptors(name), **objects)
    return speedups


def install(target: Any, ports: dict[str, Any]) -> None:
    """Put each C port in ports in place of the Python function of the same
    name on target (a class, or a module's ``globals()``), wrapped so that it
    keeps that function's docs, signature and pickling, binds as a method, and
    hands calls with keyword arguments to it."""
    for name, c_port in ports.items():
        if isinstance(target, dict):
            target[name] = speedups.method(c_port, target[name])
        else:
            setattr(target, name, speedups.method(c_port, getattr(target, name)))


def wire(name: str, target: Any, methods: dict[str, str], **objects: Any) -> None:
    """Set port name up (:func:`setup`, with objects) and install its C
    functions (methods: Python name -> extension function) on target."""
    setup(name, **objects)
    install(target, {py: getattr(speedups, c) for py, c in methods.items()})


__all__ = [
    "PORTS",
    "Port",
    "Twin",
    "active_ports",
    "install",
    "lock_type",
    "port",
    "resolve",
    "setup",
    "slot_descriptors",
    "speedups",
    "wire",
]
