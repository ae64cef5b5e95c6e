"""Differential tests: the C accelerator's ports against their Python twins.

The ports replace their twins at import, and a process has one scheduler, one
set of signal handlers and one allocator, so each path runs in a process of
its own: tests/_twin_driver.py, once with the accelerator and once with
GOROUTINES_PURE=1. A hypothesis state machine makes channels and actors
(goroutines, plain threads, goroutines started by plain threads), then has
them send, receive, try, select, close, iterate, make channels, start
goroutines and use a WaitGroup; both drivers perform every step and answer
with its trace entry - results, exception types and messages, who finished
and who is blocked, and a fingerprint of every channel's slots (buffer,
closed flag, length, capacity), of every queued waiter's slots (elem, value,
ok, done, case, channel, token), of each goroutine's own waiter, of select's
spare-waiter pool and of the WaitGroup. The entries must be equal, step by
step; a failure names the first differing field and a short program that
shows it. Fixed programs cover the cases the random ones may miss.

This test starts both paths itself: it runs in the accelerated suite run and
skips in the pure-path one (GOROUTINES_PURE set), which would repeat it.
TWIN_EXAMPLES=<n> runs n examples instead of 150 (3000 in the slow variant,
for `make test-slow`); TWIN_LOG=<file> appends every step and both entries to
file; TWIN_C_PURE=<ports> runs those ports on their twins on the C side too
(GOROUTINES_PURE=<ports>), to narrow a difference to the ports left on.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select as _io_select
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
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
        elif os.environ.get("TWIN_C_PURE"):
            # Some ports on their twins on the C side too: narrows a
            # difference to the ports left on.
            env["GOROUTINES_PURE"] = os.environ["TWIN_C_PURE"]
        env["TWIN_EXPECT"] = self.path
        self.stderr = tempfile.TemporaryFile("w+")  # a pipe nobody reads could fill up
        return subprocess.Popen(
            [sys.executable, str(DRIVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=env,
        )

    def send(self, req: dict[str, Any]) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self.start()
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
        except OSError:  # it died: answer() says so
            pass

    def answer(self) -> dict[str, Any]:
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        ready, _, _ = _io_select.select([proc.stdout], [], [], ANSWER_TIMEOUT)
        line = proc.stdout.readline() if ready else ""
        if not line:
            why = "timeout" if not ready else "exited"
            return {"error": f"{self.path} driver: no answer ({why}){self.kill()}"}
        ans: dict[str, Any] = json.loads(line)
        if "stuck" in ans or "error" in ans:
            ans["stderr"] = self.kill()
        return ans

    def kill(self) -> str:
        """End the process; the tail of what it wrote on stderr."""
        proc, self.proc = self.proc, None
        if proc is None:
            return ""
        proc.kill()
        proc.communicate()
        self.stderr.seek(0)
        tail = self.stderr.read()[-3000:]
        self.stderr.close()
        return f"\n{tail}" if tail else ""

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                proc.stdin.flush()
                proc.communicate(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.communicate()
            self.stderr.close()


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


def _comparable(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry without what differs between any two processes."""
    return {k: v for k, v in entry.items() if k != "stderr"}


class Divergence(AssertionError):
    """The paths left different traces; steps is the program up to the step."""

    def __init__(self, message: str, steps: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.steps = steps


def describe(steps: list[dict[str, Any]], a: dict[str, Any], b: dict[str, Any], diff: str) -> str:
    program = "\n".join("  " + json.dumps(s) for s in steps)
    return (
        f"the paths differ at step {len(steps) - 1} ({json.dumps(steps[-1])}):\n"
        f"  {diff}\n"
        f"program:\n{program}\n"
        f"C entry:    {json.dumps(a, sort_keys=True)}\n"
        f"pure entry: {json.dumps(b, sort_keys=True)}"
    )


class Twins:
    """The two drivers, and the steps of the current example (for reports)."""

    def __init__(self) -> None:
        self.c = Driver("c")
        self.pure = Driver("pure")
        self.steps: list[dict[str, Any]] = []
        self.in_session = False

    def both(self, req: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        self.c.send(req)
        self.pure.send(req)
        a = self.c.answer()
        b = self.pure.answer()
        if LOG is not None:
            LOG.write(json.dumps({"req": req, "entry": a, "pure": b}) + "\n")
        if any("error" in x or "stuck" in x for x in (a, b)):
            # A driver that hangs or failed is gone: start both afresh.
            self.c.kill()
            self.pure.kill()
            self.in_session = False
        return a, b

    def ask(self, req: dict[str, Any]) -> dict[str, Any]:
        if req["op"] == "begin":
            self.steps = []
            self.in_session = True
        elif not self.in_session:
            return {}  # the example already failed; its drivers were restarted
        self.steps.append(req)
        a, b = self.both(req)
        if req["op"] == "begin":
            assert a == {"path": "c"}, a
            assert b == {"path": "pure"}, b
            return a
        if req["op"] == "end":
            self.in_session = False
        diff = first_difference(_comparable(a), _comparable(b))
        if diff is not None:
            if self.in_session:
                self.both({"op": "end"})
                self.in_session = False
            raise Divergence(describe(self.steps, a, b, diff), list(self.steps))
        assert "error" not in a, a
        assert "stuck" not in a, f"a step did not settle on either path: {a}"
        return a

    def replay(self, steps: list[dict[str, Any]]) -> str | None:
        """Run a program on both paths: the report of its first difference, or
        None (the C path's entries are left in self.entries)."""
        self.in_session = True
        self.entries: list[dict[str, Any]] = []
        for i, req in enumerate(steps):
            a, b = self.both(req)
            self.entries.append(a)
            diff = first_difference(_comparable(a), _comparable(b)) if i else None
            if diff is not None or not self.in_session:
                if self.in_session:
                    self.both({"op": "end"})
                self.in_session = False
                return None if diff is None else describe(steps[: i + 1], a, b, diff)
        if steps[-1]["op"] != "end":
            self.both({"op": "end"})
        self.in_session = False
        return None

    def shorten(self, steps: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str] | None:
        """Drop steps one at a time while the paths still differ: a short
        program and its report (hypothesis's shrinker leaves filler steps)."""
        report = self.replay(steps)
        if report is None:
            return None
        i = 1
        while i < len(steps) - 1:
            shorter = steps[:i] + steps[i + 1 :]
            r = self.replay(shorter)
            if r is None:
                i += 1
            else:
                steps, report = shorter, r
        return steps, report

    def close(self) -> None:
        self.c.close()
        self.pure.close()


TWINS: Twins | None = None
# TWIN_LOG=<file>: every step and both entries (to see what the examples cover).
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
chans = st.integers(0, 2)
values = st.one_of(st.integers(0, 99), st.none(), st.sampled_from(["a", "", "None"]))
via_any = st.sampled_from([None, None, None, "recv_only", "send_only"])
via_send = st.sampled_from([None, None, None, "send_only"])
via_recv = st.sampled_from([None, None, None, "recv_only"])
case_kinds = st.sampled_from(["recv", "recv_ok", "send"])
cases = st.lists(
    st.tuples(case_kinds, st.one_of(chans, st.none()), values, via_any), min_size=0, max_size=4
)


def _step(op: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"op": st.just(op), "actor": actors, **fields})


def _select(req: dict[str, Any]) -> dict[str, Any]:
    if not req["default"] and all(ci is None for _, ci, _, _ in req["cases"]):
        req["default"] = True  # a select on nil channels only would block forever
    return req


# One strategy per operation, each as often as it appears here.
STEPS = {
    "send": (4, _step("send", chan=chans, value=values, via=via_send)),
    "recv": (3, _step("recv", chan=chans, via=via_recv)),
    "recv_ok": (2, _step("recv_ok", chan=chans, via=via_recv)),
    "try_send": (2, _step("try_send", chan=chans, value=values, via=via_send)),
    "try_recv": (2, _step("try_recv", chan=chans, via=via_recv)),
    "close": (1, _step("close", chan=chans, via=via_send)),
    "len": (1, _step("len", chan=chans, via=via_any)),
    "drain": (1, _step("drain", chan=chans, via=via_recv)),
    "select": (3, _step("select", cases=cases, default=st.booleans()).map(_select)),
    "make": (
        1,
        _step(
            "make",
            cap=st.one_of(
                st.integers(-2, 4), st.sampled_from([[k] for k in ("float", "str", "big", "true")])
            ),
        ),
    ),
    "go": (
        1,
        _step("go", what=st.sampled_from(["function", "builtin", "class", "int", "none", "async"])),
    ),
    "wg_add": (
        1,
        _step(
            "wg_add",
            delta=st.one_of(
                st.integers(-2, 3), st.sampled_from([[k] for k in ("float", "true", "str")])
            ),
        ),
    ),
    "wg_done": (1, _step("wg_done")),
    "wg_wait": (1, _step("wg_wait")),
    "select_bad": (
        1,
        _step("select_bad", chan=chans, what=st.sampled_from(["kind", "short", "list"])),
    ),
    "case_bad": (
        1,
        _step(
            "case_bad",
            kind=st.sampled_from(["recv", "recv_ok", "send"]),
            what=st.sampled_from([0, "ch", None, [1]]),
        ),
    ),
}
steps = st.sampled_from([op for op, (n, _) in STEPS.items() for _ in range(n)]).flatmap(
    lambda op: STEPS[op][1]
)


class TwinMachine(RuleBasedStateMachine):
    """Steps run by both paths; every step's entries must be equal."""

    def __init__(self) -> None:
        super().__init__()
        assert TWINS is not None
        self.twins = TWINS
        self.begun = False

    @initialize(
        caps=st.lists(st.integers(0, 3), min_size=1, max_size=3),
        kinds=st.lists(st.sampled_from("gtb"), min_size=2, max_size=5),
    )
    def begin(self, caps: list[int], kinds: list[str]) -> None:
        self.twins.ask({"op": "begin", "chans": caps, "actors": kinds})
        self.begun = True

    @rule(req=steps)
    def step(self, req: dict[str, Any]) -> None:
        self.twins.ask(req)

    def teardown(self) -> None:
        if self.begun:
            self.twins.ask({"op": "end"})


def run_machine(max_examples: int) -> None:
    TwinMachine.TestCase.settings = settings(
        max_examples=int(os.environ.get("TWIN_EXAMPLES", max_examples)),
        stateful_step_count=40,
        deadline=None,
        # No explain phase: its line tracer makes shrinking minutes long.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    try:
        TwinMachine.TestCase("runTest").runTest()
    except Divergence as e:
        assert TWINS is not None
        short = TWINS.shorten(e.steps)
        if short is None or len(short[0]) == len(e.steps):
            raise
        raise AssertionError(f"{e}\n\nshortest program found:\n{short[1]}") from None


@pytest.mark.timeout(240)
def test_twins_agree_step_by_step() -> None:
    """The C ports and their Python twins leave the same trace."""
    run_machine(150)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_twins_agree_step_by_step_long() -> None:
    """The same, long: rare interleavings of threads and background goroutines."""
    run_machine(3000)


# -- fixed programs -----------------------------------------------------------
# Each runs on both paths like an example, and says what some of its steps
# must finish with ({step index: entry["done"]}): close with waiters queued,
# closed channels, nil cases, select both ways, iteration, try operations,
# wrong arguments, WaitGroup and go are covered whatever hypothesis draws.


def S(op: str, actor: int = 0, **fields: Any) -> dict[str, Any]:
    return {"op": op, "actor": actor, **fields}


CLOSED = ["ChannelClosedError", "send on closed channel"]

PROGRAMS: dict[str, tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]] = {
    "close with receivers and senders queued": (
        [
            {"op": "begin", "chans": [0, 1, 0], "actors": ["g", "t", "b", "g", "t"]},
            S("recv", 0, chan=0),  # 1: queued receivers, a goroutine and a thread
            S("recv_ok", 1, chan=0),
            S("send", 2, chan=1, value="x"),  # 3: buffered
            S("send", 3, chan=1, value="y"),  # 4: a queued sender
            S("close", 4, chan=0),  # 5
            S("close", 4, chan=1),  # 6
            # 7: a select queued on both sides of one channel; close wakes the
            # receive case (receivers first, as Go's closechan).
            S("select", 0, cases=[["send", 2, 5, None], ["recv_ok", 2, None, None]], default=False),
            S("close", 1, chan=2),  # 8
            S("recv_ok", 2, chan=1),  # 9: the buffered value outlives close
            S("recv_ok", 2, chan=1),  # 10
        ],
        {
            5: {"g0": {"r": None}, "t1": {"r": [None, False]}, "t4": {"r": None}},
            6: {"g3": {"exc": CLOSED}, "t4": {"r": None}},
            8: {"g0": {"r": [1, [None, False]]}, "t1": {"r": None}},
            9: {"b2": {"r": ["x", True]}},
            10: {"b2": {"r": [None, False]}},
        },
    ),
    "recv_ok, try and len on a closed buffered channel": (
        [
            {"op": "begin", "chans": [2], "actors": ["g", "t"]},
            S("send", 0, chan=0, value=1),
            S("send", 1, chan=0, value=None),
            S("try_send", 0, chan=0, value=3),  # 3: full
            S("len", 1, chan=0, via="recv_only"),  # 4
            S("close", 0, chan=0, via="send_only"),
            S("try_send", 1, chan=0, value=3),  # 6
            S("recv_ok", 0, chan=0),  # 7
            S("recv", 1, chan=0, via="recv_only"),  # 8: None, the value
            S("recv_ok", 0, chan=0),  # 9
            S("recv", 1, chan=0),  # 10
            S("try_recv", 0, chan=0),  # 11
            S("close", 1, chan=0),  # 12
            S("len", 0, chan=0),  # 13
        ],
        {
            3: {"g0": {"r": False}},
            4: {"t1": {"r": [2, 2]}},
            6: {"t1": {"exc": CLOSED}},
            7: {"g0": {"r": [1, True]}},
            8: {"t1": {"r": None}},
            9: {"g0": {"r": [None, False]}},
            10: {"t1": {"r": None}},
            11: {"g0": {"r": [None, False, True]}},
            12: {"t1": {"exc": ["ChannelClosedError", "close of closed channel"]}},
            13: {"g0": {"r": [0, 2]}},
        },
    ),
    "nil channels in select, with default": (
        [
            {"op": "begin", "chans": [1], "actors": ["g", "t"]},
            S(
                "select",
                0,
                cases=[["recv", None, None, None], ["send", None, 1, None]],
                default=True,
            ),
            S(
                "select",
                1,
                cases=[["recv", None, None, None], ["recv_ok", 0, None, None]],
                default=True,
            ),
            S("send", 0, chan=0, value=7),
            S(
                "select",
                1,
                cases=[["send", None, 1, None], ["recv_ok", 0, None, None]],
                default=True,
            ),
            S("select", 0, cases=[["send", None, 1, None], ["send", 0, 8, None]], default=False),
            S("select", 0, cases=[["recv", None, None, None], ["send", 0, 9, None]], default=True),
            S("select", 0, cases=[], default=True),
        ],
        {
            1: {"g0": {"r": [-1, None]}},
            2: {"t1": {"r": [-1, None]}},
            4: {"t1": {"r": [1, [7, True]]}},
            5: {"g0": {"r": [1, None]}},
            6: {"g0": {"r": [-1, None]}},
            7: {"g0": {"r": [-1, None]}},
        },
    ),
    "select with send and receive cases, woken from threads and goroutines": (
        [
            {"op": "begin", "chans": [0, 0], "actors": ["g", "t", "b", "t"]},
            S("select", 0, cases=[["send", 0, 5, None], ["recv", 1, None, None]], default=False),
            S("recv", 1, chan=0),  # 2
            S("select", 0, cases=[["send", 0, 6, None], ["recv", 1, None, None]], default=False),
            S("send", 2, chan=1, value=7),  # 4
            S("select", 1, cases=[["send", 0, 8, None], ["recv_ok", 1, None, None]], default=False),
            S("recv_ok", 2, chan=0),  # 6: a goroutine wakes a thread's select
            S("select", 3, cases=[["recv", 0, None, None], ["recv", 1, None, None]], default=False),
            S("select", 2, cases=[["send", 1, "b", None]], default=False),  # 8
        ],
        {
            2: {"g0": {"r": [0, None]}, "t1": {"r": 5}},
            4: {"b2": {"r": None}, "g0": {"r": [1, 7]}},
            6: {"b2": {"r": [8, True]}, "t1": {"r": [0, None]}},
            8: {"b2": {"r": [0, None]}, "t3": {"r": [1, "b"]}},
        },
    ),
    "iteration until close": (
        [
            {"op": "begin", "chans": [1, 0], "actors": ["g", "t", "b", "t"]},
            S("drain", 0, chan=0),
            S("drain", 3, chan=1, via="recv_only"),
            S("send", 1, chan=0, value=1),
            S("send", 2, chan=1, value=2),
            S("send", 1, chan=0, value=None),
            S("send", 2, chan=1, value=3),
            S("close", 1, chan=0),  # 7
            S("close", 2, chan=1),  # 8
        ],
        {
            7: {"g0": {"r": [1, None]}, "t1": {"r": None}},
            8: {"b2": {"r": None}, "t3": {"r": [2, 3]}},
        },
    ),
    "try_send and try_recv against queued partners": (
        [
            {"op": "begin", "chans": [0], "actors": ["g", "t", "b"]},
            S("try_send", 0, chan=0, value=1),  # 1: nobody receives
            S("try_recv", 0, chan=0),  # 2: nobody sends
            S("recv", 1, chan=0),
            S("try_send", 0, chan=0, value=2),  # 4
            S("send", 2, chan=0, value=3),
            S("try_recv", 0, chan=0, via="recv_only"),  # 6
        ],
        {
            1: {"g0": {"r": False}},
            2: {"g0": {"r": [None, False, False]}},
            4: {"g0": {"r": True}, "t1": {"r": 2}},
            6: {"b2": {"r": None}, "g0": {"r": [3, True, True]}},
        },
    ),
    "wrong and unusual arguments to the ported functions": (
        [
            {"op": "begin", "chans": [0], "actors": ["g", "t"]},
            S("calls", 0),  # from a goroutine
            S("calls", 1),  # from a plain thread
        ],
        {},
    ),
    "WaitGroup and go": (
        [
            {"op": "begin", "chans": [0], "actors": ["g", "t", "b"]},
            S("wg_add", 0, delta=2),
            S("wg_wait", 1),
            S("wg_wait", 2),
            S("wg_add", 0, delta=-3),  # 4
            S("wg_done", 0),
            S("wg_done", 0),  # 6
            S("wg_done", 0),  # 7
            S("go", 0, what="async"),  # 8
            S("go", 1, what="none"),  # 9
            S("go", 0, what="class"),  # 10
        ],
        {
            4: {"g0": {"exc": ["RuntimeError", "sync: negative WaitGroup counter"]}},
            6: {"g0": {"r": None}, "t1": {"r": None}, "b2": {"r": None}},
            7: {"g0": {"exc": ["RuntimeError", "sync: negative WaitGroup counter"]}},
            10: {"g0": {"r": "<G>"}},
        },
    ),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_twins_agree_on_fixed_programs(name: str) -> None:
    assert TWINS is not None
    steps, expected = PROGRAMS[name]
    report = TWINS.replay(steps)
    assert report is None, report
    entries = TWINS.entries
    assert len(entries) == len(steps), entries[-1]
    for entry in entries[1:]:
        for result in entry["done"].values():
            if isinstance(result.get("r"), dict):  # the "calls" step: one outcome per call
                assert len(result["r"]) > 30, result
    for i, done in expected.items():
        assert entries[i]["done"] == done, (i, steps[i], entries[i])
