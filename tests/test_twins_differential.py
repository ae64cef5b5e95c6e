"""Differential tests: the C accelerator's ports against their Python twins.

The ports replace their twins at import, and a process has one scheduler, one
set of signal handlers and one allocator, so each path runs in a process of
its own: tests/_twin_driver.py, once with the accelerator and once with
GOROUTINES_PURE=1. A hypothesis state machine makes channels and actors
(goroutines, plain threads, goroutines started by plain threads), then has
them send, receive, try, select, close, iterate and make channels; both
drivers perform every step and answer with its trace entry - results,
exception types and messages, who finished and who is blocked, and a
fingerprint of every channel's slots (buffer, closed flag, length, capacity)
and of every queued waiter's slots (elem, value, ok, done, case, channel,
token). The entries must be equal, step by step.

This test starts both paths itself: it runs in the accelerated suite run and
skips in the pure-path one (GOROUTINES_PURE set), which would repeat it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select as _io_select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

DRIVER = Path(__file__).with_name("_twin_driver.py")
ANSWER_TIMEOUT = 30.0  # seconds for one step's answer (a step settles in 10)

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("GOROUTINES_PURE", "") not in ("", "0"),
        reason="starts both paths itself: runs in the accelerated suite run only",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("goroutines._runtime._speedups") is None,
        reason="the C accelerator is not built here: no port to compare with its twin",
    ),
]


class Driver:
    """One driver process on one path ("c" or "pure"), reused across examples."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> subprocess.Popen[str]:
        env = dict(os.environ)
        env.pop("GOROUTINES_PURE", None)
        if self.path == "pure":
            env["GOROUTINES_PURE"] = "1"
        env["TWIN_EXPECT"] = self.path
        return subprocess.Popen(
            [sys.executable, str(DRIVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def send(self, req: dict[str, Any]) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self.start()
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()

    def answer(self) -> dict[str, Any]:
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        ready, _, _ = _io_select.select([proc.stdout], [], [], ANSWER_TIMEOUT)
        line = proc.stdout.readline() if ready else ""
        if not line:
            self.kill()
            return {"error": f"{self.path} driver: no answer ({'timeout' if not ready else 'exited'})"}
        ans: dict[str, Any] = json.loads(line)
        if "stuck" in ans or "error" in ans:
            self.kill()
        return ans

    def kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.communicate()

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                self.send_raw(proc, {"op": "quit"})
                proc.communicate(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.communicate()

    @staticmethod
    def send_raw(proc: subprocess.Popen[str], req: dict[str, Any]) -> None:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(req) + "\n")
        proc.stdin.flush()


def first_difference(a: Any, b: Any, where: str = "") -> str | None:
    """Where a and b first differ, as a path into the entry, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{where}.{k}: only on the {'C' if k in a else 'pure'} path"
            d = first_difference(a[k], b[k], f"{where}.{k}")
            if d is not None:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = first_difference(x, y, f"{where}[{i}]")
            if d is not None:
                return d
        return None
    return None if a == b and type(a) is type(b) else f"{where}: C {a!r} != pure {b!r}"


class Twins:
    """The two drivers, and the steps of the current example (for reports)."""

    def __init__(self) -> None:
        self.c = Driver("c")
        self.pure = Driver("pure")
        self.steps: list[dict[str, Any]] = []

    def ask(self, req: dict[str, Any]) -> dict[str, Any]:
        if req["op"] == "begin":
            self.steps = []
        self.steps.append(req)
        self.c.send(req)
        self.pure.send(req)
        a = self.c.answer()
        b = self.pure.answer()
        if req["op"] == "begin":
            assert a == {"path": "c"}, a
            assert b == {"path": "pure"}, b
            return a
        if LOG is not None:
            LOG.write(json.dumps({"req": req, "entry": a}) + "\n")
        diff = first_difference(a, b)
        if diff is not None:
            program = "\n".join(json.dumps(s) for s in self.steps)
            raise AssertionError(
                f"the paths differ at step {len(self.steps) - 1} ({json.dumps(req)}):\n"
                f"  {diff}\n"
                f"program:\n{program}\n"
                f"C entry:    {json.dumps(a, sort_keys=True)}\n"
                f"pure entry: {json.dumps(b, sort_keys=True)}"
            )
        assert "error" not in a, a
        assert "stuck" not in a, f"a step did not settle on either path: {a}"
        return a

    def close(self) -> None:
        self.c.close()
        self.pure.close()


TWINS: Twins | None = None
# TWIN_LOG=<file>: append every step and its entry there (to see what the
# examples cover).
LOG = open(os.environ["TWIN_LOG"], "a") if os.environ.get("TWIN_LOG") else None


@pytest.fixture(scope="module", autouse=True)
def _twins() -> Any:
    global TWINS
    TWINS = Twins()
    yield TWINS
    TWINS.close()
    TWINS = None


# -- the state machine --------------------------------------------------------

actors = st.integers(0, 4)
chans = st.integers(0, 3)
values = st.one_of(st.none(), st.integers(-3, 99), st.sampled_from(["a", "", "None"]))
via_any = st.sampled_from([None, None, None, "recv_only", "send_only"])
case_kinds = st.sampled_from(["recv", "recv_ok", "send"])
cases = st.lists(
    st.tuples(case_kinds, st.one_of(chans, st.none()), values, via_any), min_size=0, max_size=4
)


class TwinMachine(RuleBasedStateMachine):
    """Steps run by both paths; every step's entries must be equal."""

    def __init__(self) -> None:
        super().__init__()
        assert TWINS is not None
        self.twins = TWINS
        self.begun = False

    def do(self, op: str, **fields: Any) -> None:
        self.twins.ask({"op": op, **fields})

    @initialize(
        caps=st.lists(st.integers(0, 3), min_size=1, max_size=3),
        kinds=st.lists(st.sampled_from("gtb"), min_size=2, max_size=5),
    )
    def begin(self, caps: list[int], kinds: list[str]) -> None:
        self.do("begin", chans=caps, actors=kinds)
        self.begun = True

    @rule(actor=actors, chan=chans, value=values, via=st.sampled_from([None, "send_only"]))
    def send(self, actor: int, chan: int, value: Any, via: str | None) -> None:
        self.do("send", actor=actor, chan=chan, value=value, via=via)

    @rule(actor=actors, chan=chans, via=st.sampled_from([None, "recv_only"]))
    def recv(self, actor: int, chan: int, via: str | None) -> None:
        self.do("recv", actor=actor, chan=chan, via=via)

    @rule(actor=actors, chan=chans, via=st.sampled_from([None, "recv_only"]))
    def recv_ok(self, actor: int, chan: int, via: str | None) -> None:
        self.do("recv_ok", actor=actor, chan=chan, via=via)

    @rule(actor=actors, chan=chans, value=values, via=st.sampled_from([None, "send_only"]))
    def try_send(self, actor: int, chan: int, value: Any, via: str | None) -> None:
        self.do("try_send", actor=actor, chan=chan, value=value, via=via)

    @rule(actor=actors, chan=chans, via=st.sampled_from([None, "recv_only"]))
    def try_recv(self, actor: int, chan: int, via: str | None) -> None:
        self.do("try_recv", actor=actor, chan=chan, via=via)

    @rule(actor=actors, chan=chans, via=st.sampled_from([None, "send_only"]))
    def close(self, actor: int, chan: int, via: str | None) -> None:
        self.do("close", actor=actor, chan=chan, via=via)

    @rule(actor=actors, chan=chans, via=via_any)
    def length(self, actor: int, chan: int, via: str | None) -> None:
        self.do("len", actor=actor, chan=chan, via=via)

    @rule(actor=actors, chan=chans, via=st.sampled_from([None, "recv_only"]))
    def drain(self, actor: int, chan: int, via: str | None) -> None:
        self.do("drain", actor=actor, chan=chan, via=via)

    @rule(actor=actors, cases=cases, default=st.booleans())
    def select(self, actor: int, cases: list[Any], default: bool) -> None:
        if not default and all(ci is None for _, ci, _, _ in cases):
            default = True  # a select on nil channels only would block forever
        self.do("select", actor=actor, cases=cases, default=default)

    @rule(
        actor=actors,
        cap=st.one_of(
            st.integers(-2, 4),
            st.sampled_from([[k] for k in ("float", "str", "big", "true")]),
        ),
    )
    def make(self, actor: int, cap: Any) -> None:
        self.do("make", actor=actor, cap=cap)

    @rule(actor=actors, chan=chans, what=st.sampled_from(["kind", "short", "list"]))
    def select_bad(self, actor: int, chan: int, what: str) -> None:
        self.do("select_bad", actor=actor, chan=chan, what=what)

    @rule(
        actor=actors,
        kind=st.sampled_from(["recv", "recv_ok", "send"]),
        what=st.sampled_from([0, "ch", None, [1]]),
    )
    def case_bad(self, actor: int, kind: str, what: Any) -> None:
        self.do("case_bad", actor=actor, kind=kind, what=what)

    def teardown(self) -> None:
        if self.begun:
            self.do("end")


TwinMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("TWIN_EXAMPLES", "150")),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.timeout(240)
def test_twins_agree_step_by_step() -> None:
    """The C ports and their Python twins leave the same trace."""
    TwinMachine.TestCase("runTest").runTest()
