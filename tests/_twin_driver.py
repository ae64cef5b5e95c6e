"""Driver of the differential twin tests (tests/test_twins_differential.py).

Run as a script, in a process of its own: the C ports replace their Python
twins at import, so one process holds one path. ``GOROUTINES_PURE=1`` in the
environment selects the pure-Python twins; without it the accelerator's ports.

It reads JSON requests, one per line, on stdin and answers each with one JSON
line on stdout:

  {"op": "begin", "chans": [cap, ...], "actors": ["g", "t", "b", ...]}
      start a session inside goroutines.run(): the data channels, and one
      actor per letter: "g" a goroutine started by the main goroutine, "t" a
      plain OS thread, "b" a goroutine started by a plain thread (it runs on
      the background scheduler's thread), and one WaitGroup.
      Answer: {"path": "c" | "pure"}.
  {"op": <operation>, "actor": k, ...}
      actor k (or the next idle one) performs the operation; the driver
      waits until every actor has either finished its operation or is
      parked on the data channels or the WaitGroup, then answers with the
      step's trace entry (see ``entry``).
  {"op": "end"}
      close every open data channel, bring the WaitGroup to zero, let every
      actor finish, stop them, leave run(); answer with a last trace entry.
  {"op": "quit"}

Steps run one at a time: an operation is handed to its actor only when every
actor is idle or parked, so the state each one sees is fixed by the steps
before it. A select with several ready cases would choose at random: the
driver keeps the first ready case and turns the other ready ones into cases
on a nil channel (the entry says which), so both paths make the same choice.
"""

from __future__ import annotations

import json
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import goroutines
from goroutines import Chan, WaitGroup, go, gosched, recv, recv_ok, select, send
from goroutines._chan import RecvOnly, SendOnly
from goroutines._runtime.accel import speedups
from goroutines._runtime.waiter import GWaiter, ThreadWaiter, Waiter
from goroutines._select import RECV, SEND, _spare

SETTLE_TIMEOUT = 10.0  # seconds: a step that does not settle by then is "stuck"
_STOP = object()
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def outcome(fn: Callable[[], Any]) -> dict[str, Any]:
    """fn's result, or the type and message of what it raised."""
    try:
        return {"r": plain(fn())}
    except Exception as e:
        # Addresses in reprs differ from process to process.
        return {"exc": [type(e).__name__, _ADDRESS.sub(" at 0x?", str(e))]}


def plain(v: Any) -> Any:
    """v as JSON (tuples become lists; anything else by its type name)."""
    if v is None or isinstance(v, (bool, int, str, float)):
        return v
    if isinstance(v, (tuple, list)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    return f"<{type(v).__name__}>"


class Actor:
    """One performer of steps: a goroutine or a plain thread.

    ``status`` is "idle" between operations and "running" during one; an
    operation's outcome is put in ``finished`` by the actor when it ends.
    ``expect`` is how many waiters the running operation queues when it
    blocks (1, or one per case of a select on a channel), 0 for one that
    never blocks.
    """

    def __init__(self, session: Session, name: str, kind: str) -> None:
        self.session = session
        self.name = name
        self.kind = kind
        self.status = "starting"
        self.expect = 0
        self.finished: dict[str, Any] | None = None
        self.g: Any = None
        self.ident = 0
        self.cmds: Any = None

    def start(self) -> None:
        if self.kind == "g":
            self.cmds = Chan(1)
            go(self.loop_g)
        elif self.kind == "b":
            self.cmds = Chan(1)
            # go() from a plain thread: the goroutine runs on the background P.
            t = threading.Thread(target=go, args=(self.loop_g,), daemon=True)
            t.start()
            t.join()
        else:
            self.cmds = queue.SimpleQueue()
            t = threading.Thread(target=self.loop_t, daemon=True)
            t.start()

    def loop_g(self) -> None:
        self.g = goroutines.current()
        self.status = "idle"
        while True:
            cmd = self.cmds.recv()
            if cmd is _STOP:
                self.status = "stopped"
                return
            self.run(cmd)

    def loop_t(self) -> None:
        self.ident = threading.get_ident()
        self.status = "idle"
        while True:
            cmd = self.cmds.get()
            if cmd is _STOP:
                self.status = "stopped"
                return
            self.run(cmd)

    def run(self, cmd: Callable[[], Any]) -> None:
        self.finished = outcome(cmd)
        self.status = "idle"

    def give(self, cmd: Any) -> None:
        if self.kind == "t":
            self.cmds.put(cmd)
        else:
            self.cmds.send(cmd)

    def owns(self, w: Waiter) -> bool:
        if type(w) is ThreadWaiter:
            return self.kind == "t" and w.thread == self.ident
        return isinstance(w, GWaiter) and self.g is not None and w.g is self.g

    def settled(self) -> bool:
        if self.status == "idle" and self.kind == "b":
            # On another thread: settled once back in its wait for the next
            # command (its waiter's slots are those of that wait).
            return any(self.owns(w) for w in list(self.cmds._recvq))
        if self.status in ("idle", "stopped"):
            return True
        if self.status != "running" or not self.expect:
            return False  # an operation that never blocks: wait for its end
        queued = 0
        for q in self.session.queues():
            queued += sum(1 for w in list(q) if self.owns(w))
        return queued == self.expect


class Session:
    def __init__(self, caps: list[Any], kinds: list[str]) -> None:
        self.chans: list[Chan[Any]] = [Chan(c) for c in caps]
        self.wg = WaitGroup()
        self.actors = [Actor(self, f"{k}{i}", k) for i, k in enumerate(kinds)]

    def queues(self) -> list[Any]:
        """Every wait queue of the data channels and the WaitGroup."""
        qs: list[Any] = [self.wg._waiters]
        for ch in self.chans:
            qs.append(ch._recvq)
            qs.append(ch._sendq)
        return qs

    # -- fingerprints ---------------------------------------------------------

    def who(self, w: Waiter) -> str:
        for a in self.actors:
            if a.owns(w):
                return a.name
        return "?"

    def chan_name(self, ch: object) -> Any:
        if ch is None:
            return None
        for i, c in enumerate(self.chans):
            if c is ch:
                return i
        return "other"

    def waiter(self, w: Any) -> Any:
        if w is None:
            return None
        token = w.token
        fp = {
            "who": self.who(w),
            "type": type(w).__name__,
            "elem": plain(w.elem),
            "value": plain(w.value),
            "ok": w.ok,
            "done": w.done,
            "case": w.case,
            "chan": self.chan_name(w.chan),
            "token": None if token is None else bool(token.locked()),
        }
        if w.case >= 0 and not w.done:
            # A select's waiter comes from the spare pool with the ok of its
            # last use; the pool's order is random when a select had two
            # cases on one channel (they queue in random order), and ok is
            # written before anyone reads it: leave it out.
            del fp["ok"]
        return fp

    def fingerprint(self) -> dict[str, Any]:
        chans = []
        for ch in self.chans:
            chans.append(
                {
                    "buf": [plain(v) for v in ch._buf],
                    "buf_type": type(ch._buf).__name__,
                    "len": len(ch),
                    "cap": ch.cap,
                    "_cap": ch._cap,
                    "closed": ch._closed,
                    "closed_prop": ch.closed,
                    "recvq": [self.waiter(w) for w in ch._recvq],
                    "sendq": [self.waiter(w) for w in ch._sendq],
                    "timer": ch._timer is not None,
                }
            )
        actors: dict[str, Any] = {}
        for a in self.actors:
            if a.kind != "t":
                actors[a.name] = {"waiter": self.waiter(a.g.waiter if a.g is not None else None)}
            if a.kind == "g" and a.g is not None:
                # Parked by now (it shares the main goroutine's thread); a
                # goroutine on the background thread may still be on its way.
                actors[a.name]["state"] = [a.g.state, a.g.wait_reason]
        wg = {"count": self.wg._count, "waiters": [self.waiter(w) for w in self.wg._waiters]}
        # select's pool of spare waiters. Its order is random (see waiter()),
        # so which waiter a select takes is too: compared as a multiset,
        # without what a waiter keeps from its last select (case, done, ok),
        # which the next select writes before anyone reads it.
        stale = ("case", "done", "ok")
        spare = sorted(
            json.dumps({k: v for k, v in self.waiter(w).items() if k not in stale}, sort_keys=True)
            for w in _spare
        )
        return {"chans": chans, "goroutines": actors, "spare": spare, "wg": wg}

    # -- steps ----------------------------------------------------------------

    def settle(self) -> bool:
        deadline = time.monotonic() + SETTLE_TIMEOUT
        spins = 0
        while not all(a.settled() for a in self.actors):
            if time.monotonic() > deadline:
                return False
            gosched()
            spins += 1
            if spins > 3:
                time.sleep(0.0002)  # let the other threads' actors run
        return True

    def entry(self, first: dict[str, Any]) -> dict[str, Any]:
        """A step's trace: what it did at once, the operations that finished
        during it (by actor), who is still blocked, and the fingerprint."""
        ok = self.settle()
        done = {}
        for a in self.actors:
            if a.finished is not None:
                done[a.name] = a.finished
                a.finished = None
        first["done"] = done
        first["blocked"] = [a.name for a in self.actors if a.status == "running"]
        first["fp"] = self.fingerprint()
        if not ok:
            first["stuck"] = True
        return first

    def chan(self, req: dict[str, Any], key: str = "chan") -> Any:
        i = req[key]
        return None if i is None else self.chans[i % len(self.chans)]

    def view(self, ch: Any, via: str | None) -> Any:
        if ch is None or via is None:
            return ch
        return RecvOnly(ch) if via == "recv_only" else SendOnly(ch)

    def operation(self, req: dict[str, Any]) -> tuple[Callable[[], Any], int, dict[str, Any]]:
        """The callable an actor runs for req, how many waiters it queues if it
        blocks, and what the entry says about it beforehand."""
        op = req["op"]
        note: dict[str, Any] = {}
        if op == "make":
            cap = req["cap"]
            if isinstance(cap, list):  # a capacity that JSON cannot carry
                cap = {"float": 1.5, "str": "2", "big": 2**63, "true": True}[cap[0]]
            return (lambda: (lambda c: [len(c), c.cap, c.closed])(Chan(cap))), 0, note
        if op == "select_bad":
            ch = self.chan(req)
            bad = {"kind": (ch, "recv", None), "short": (ch, RECV), "list": [ch, SEND, 1]}
            case = bad[req["what"]]
            return (lambda: select(case, default=True)), 0, note
        if op == "case_bad":
            fn = {"recv": recv, "recv_ok": recv_ok}.get(req["kind"])
            what = req["what"]
            return ((lambda: fn(what)) if fn else (lambda: send(what, 1))), 0, note
        if op == "select":
            return self.select_op(req, note)
        if op == "go":
            target = _GO_TARGETS[req["what"]]
            return (lambda: go(target, 1)), 0, note
        if op == "calls":
            return (lambda: {k: outcome(f) for k, f in _calls(self.wg).items()}), 0, note
        if op == "wg_add":
            delta = req["delta"]
            if isinstance(delta, list):  # a delta that JSON cannot carry
                delta = {"float": 1.5, "true": True, "str": "1"}[delta[0]]
            return (lambda: self.wg.add(delta)), 0, note
        if op == "wg_done":
            return self.wg.done, 0, note
        if op == "wg_wait":
            return self.wg.wait, 1, note
        ch = self.view(self.chan(req), req.get("via"))
        value = req.get("value")
        if op == "send":
            return (lambda: ch.send(value)), 1, note
        if op == "recv":
            return ch.recv, 1, note
        if op == "recv_ok":
            return ch.recv_ok, 1, note
        if op == "try_send":
            return (lambda: ch.try_send(value)), 0, note
        if op == "try_recv":
            return ch.try_recv, 0, note
        if op == "close":
            return ch.close, 0, note
        if op == "len":
            return (lambda: [len(ch), ch.cap]), 0, note
        if op == "drain":
            return (lambda: list(ch)), 1, note
        raise ValueError(f"unknown op {op!r}")

    def ready(self, ch: Chan[Any], kind: str) -> bool:
        if kind == "send":
            return bool(ch._recvq or ch._closed or len(ch._buf) < ch._cap)
        return bool(ch._buf or ch._sendq or ch._closed)

    def select_op(
        self, req: dict[str, Any], note: dict[str, Any]
    ) -> tuple[Callable[[], Any], int, dict[str, Any]]:
        cases: list[tuple[str, Any, Any, str | None]] = []
        masked = []
        seen_ready = False
        for i, (kind, ci, value, via) in enumerate(req["cases"]):
            ch = None if ci is None else self.chans[ci % len(self.chans)]
            bad_view = (kind == "send" and via == "recv_only") or (
                kind != "send" and via == "send_only"
            )
            if ch is not None and not bad_view and self.ready(ch, kind):
                if seen_ready:
                    masked.append(i)
                    ch = None
                seen_ready = True
            cases.append((kind, ch, value, via))
        default = req["default"]
        if not seen_ready and not default:
            # It will queue: two waiters of one select in one queue queue in
            # random order (select.go's too). Keep the first of them.
            queues: set[tuple[int, bool]] = set()
            for i, (kind, ch, value, via) in enumerate(cases):
                if ch is None:
                    continue
                q = (id(ch), kind == "send")
                if q in queues:
                    masked.append(i)
                    cases[i] = (kind, None, value, via)
                queues.add(q)
        if masked:
            note["masked"] = sorted(masked)
        queued = sum(1 for _, ch, _, _ in cases if ch is not None)

        def run() -> Any:
            made = []
            for kind, ch, value, via in cases:
                c = self.view(ch, via)
                if kind == "send":
                    made.append(send(c, value))
                else:
                    made.append(recv(c) if kind == "recv" else recv_ok(c))
            return select(*made, default=default)

        return run, queued, note

    def step(self, req: dict[str, Any]) -> dict[str, Any]:
        if req["op"] == "close_all":
            closed = []
            for i, ch in enumerate(self.chans):
                if not ch._closed:
                    ch.close()
                    closed.append(i)
            released = self.wg._count
            if released:
                self.wg.add(-released)  # wake the WaitGroup's waiters too
            return self.entry({"closed": closed, "wg_released": released})
        # Actor k, or the next idle one after it: blocked actors would
        # otherwise turn most steps of a long example into no-ops.
        n = len(self.actors)
        k = req["actor"] % n
        for actor in self.actors[k:] + self.actors[:k]:
            if actor.status == "idle":
                break
        else:
            return self.entry({"busy": True})
        fn, expect, note = self.operation(req)
        note["by"] = actor.name
        actor.expect = expect
        actor.status = "running"
        actor.give(fn)
        return self.entry(note)

    def stop(self) -> bool:
        for a in self.actors:
            if a.status == "idle":
                a.give(_STOP)
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while any(a.status != "stopped" for a in self.actors):
            if time.monotonic() > deadline:
                return False
            gosched()
            time.sleep(0.0002)
        return True


async def _coroutine_function() -> None:
    pass


# What the "go" step starts (JSON names them).
_GO_TARGETS: dict[str, Any] = {
    "function": lambda *args: None,
    "builtin": abs,  # a callable without __code__
    "class": int,
    "int": 7,
    "none": None,
    "async": _coroutine_function,
}


class _Int(int):
    pass


def _calls(wg: WaitGroup) -> dict[str, Callable[[], Any]]:
    """Calls of the ported functions with wrong arguments or unusual ones:
    the ports hand such calls to their twins, which must say the same."""
    c: Chan[Any] = Chan(1)
    f: Any = c  # called as the type checker would not allow
    fresh: Chan[Any] = Chan(1)
    fresh.send(1)

    def reinit() -> Any:
        Chan.__init__(fresh, 3)  # a second __init__: a new, empty channel
        return [fresh.cap, type(fresh._buf).__name__, len(fresh), fresh.try_recv()]

    any_recv: Any = recv
    any_send: Any = send
    any_recv_ok: Any = recv_ok
    any_select: Any = select
    any_go: Any = go
    any_wg: Any = wg
    any_chan: Any = Chan
    return {
        "Chan()": lambda: Chan().cap,
        "Chan(capacity=2)": lambda: Chan(capacity=2).cap,
        "Chan(1, 2)": lambda: any_chan(1, 2),
        "Chan(cap=2)": lambda: any_chan(cap=2),
        "Chan(_Int(3))": lambda: Chan(_Int(3)).cap,
        "Chan(-2**70)": lambda: Chan(-(2**70)),
        "Chan.__init__ again": reinit,
        "send()": lambda: f.send(),
        "send(1, 2)": lambda: f.send(1, 2),
        "send(value=1)": lambda: f.send(value=1),
        "recv(1)": lambda: f.recv(1),
        "recv_ok(1)": lambda: f.recv_ok(1),
        "recv(x=1)": lambda: f.recv(x=1),
        "__iter__(1)": lambda: f.__iter__(1),
        "Chan.send(None, 1)": lambda: Chan.send(None, 1),  # type: ignore[arg-type]
        "Chan.recv(deque)": lambda: Chan.recv(f._buf),
        "case recv()": lambda: any_recv(),
        "case recv(c, 1)": lambda: any_recv(c, 1),
        "case recv(ch=c)": lambda: recv(ch=c),
        "case send(c)": lambda: any_send(c),
        "case send(c, 1, 2)": lambda: any_send(c, 1, 2),
        "case send(ch=c, value=1)": lambda: send(ch=c, value=1),
        "case recv_ok(c, 1)": lambda: any_recv_ok(c, 1),
        "case recv(RecvOnly)": lambda: recv(c.recv_only()),
        "case send(SendOnly)": lambda: send(c.send_only(), 1),
        "select(default=1)": lambda: any_select(default=1),
        "select(default=None)": lambda: any_select(recv(c), default=None),
        "select(x=1)": lambda: any_select(recv(c), x=1),
        "select(1)": lambda: any_select(1),
        "select((c,))": lambda: any_select((c,)),
        "select(recv(c), recv(c), default=True)": lambda: select(recv(c), recv(c), default=True),
        "go()": lambda: any_go(),
        "go(fn=f)": lambda: any_go(fn=lambda: None),
        "go(f, x=1)": lambda: go(lambda x: None, x=1),
        "wg.add()": lambda: any_wg.add(),
        "wg.add(1, 2)": lambda: any_wg.add(1, 2),
        "wg.add(delta=0)": lambda: wg.add(delta=0),
        "wg.add(1.0)": lambda: any_wg.add(1.0),
        "wg.add(_Int(0))": lambda: wg.add(_Int(0)),
        "wg.add(2**70)": lambda: wg.add(2**70),
        "wg.add(-2**70)": lambda: wg.add(-(2**70)),
        "wg.done(1)": lambda: any_wg.done(1),
    }


def read() -> dict[str, Any] | None:
    line = sys.stdin.readline()
    if not line:
        return None
    return json.loads(line)  # type: ignore[no-any-return]


def write(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def session_main(begin: dict[str, Any]) -> bool:
    """One session, inside goroutines.run(). False: the process must end."""
    # The pool is process-wide: each session starts with an empty one, so an
    # entry depends on the session's steps only.
    _spare.clear()
    s = Session(begin["chans"], begin["actors"])
    for a in s.actors:
        a.start()
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while any(a.status == "starting" for a in s.actors):
        if time.monotonic() > deadline:
            write({"error": "actors did not start"})
            return False
        gosched()
        time.sleep(0.0002)
    write({"path": "pure" if speedups is None else "c"})
    while True:
        req = read()
        if req is None or req["op"] == "quit":
            return False
        if req["op"] == "end":
            last = s.step({"op": "close_all"})
            if not s.stop():
                last["stuck"] = True
            write(last)
            return "stuck" not in last
        entry = s.step(req)
        write(entry)
        if "stuck" in entry:
            return False  # an actor hangs: this process cannot go on


def main() -> None:
    expected = os.environ.get("TWIN_EXPECT")
    if expected is not None and expected != ("pure" if speedups is None else "c"):
        write({"error": f"expected the {expected} path"})
        return
    while True:
        req = read()
        if req is None or req["op"] == "quit":
            return
        if req["op"] != "begin":
            write({"error": f"expected begin, got {req['op']!r}"})
            return
        if not goroutines.run(session_main, req):
            sys.stdout.flush()
            os._exit(1)  # actors may still hang: do not wait for them


if __name__ == "__main__":
    main()
