"""GOROUTINES_PURE=<ports>: the accelerator's ports turned off one by one.

Each run is a process of its own (the ports replace their twins at import),
which reports the ports in use and runs a short channel / select / WaitGroup
workload on that mix of C and Python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from goroutines._runtime import accel
from goroutines._runtime.accel import PORTS, _pure_ports

needs_build = pytest.mark.skipif(
    accel.speedups is None and os.environ.get("GOROUTINES_PURE", "") in ("", "0"),
    reason="the C accelerator is not built here",
)

CHILD = textwrap.dedent(
    """
    import json
    from goroutines import Chan, WaitGroup, go, recv_ok, run, select, send
    from goroutines._runtime import accel

    def main() -> None:
        a, b, out = Chan[int](), Chan[int](4), Chan[int](64)
        wg = WaitGroup()

        def producer(ch: Chan[int], base: int) -> None:
            for i in range(50):
                ch.send(base + i)
            ch.close()
            wg.done()

        wg.add(2)
        go(producer, a, 0)
        go(producer, b, 1000)
        got: list[int] = []
        chans: list[Chan[int] | None] = [a, b]
        while chans != [None, None]:  # a closed channel becomes None, as Go's nil
            i, (v, ok) = select(recv_ok(chans[0]), recv_ok(chans[1]))
            if not ok:
                chans[i] = None
                continue
            got.append(v)
        wg.wait()
        select(send(out, len(got)))
        assert sorted(got) == [*range(50), *range(1000, 1050)], got
        assert out.recv() == 100
        print(json.dumps({"active": sorted(accel.active_ports()), "ok": True}))

    run(main)
    """
)


def _run(pure: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GOROUTINES_PURE=pure)
    env.pop("GOROUTINES_EXPECT_SPEEDUPS", None)
    return subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60
    )


def test_dependencies_close_over_needs() -> None:
    assert _pure_ports("") == set() == _pure_ports("0")
    assert _pure_ports("1") == set(PORTS)
    assert _pure_ports("lock") == {"lock", "chan", "select", "waitgroup", "net", "netpoll"}
    assert _pure_ports("sched") == {"sched", "go", "chan", "select", "waitgroup", "net", "netpoll"}
    assert _pure_ports("net") == {"net"}
    assert _pure_ports("netpoll") == {"netpoll"}
    assert _pure_ports("chan") == {"chan", "select"}
    assert _pure_ports(" select , arena ") == {"select", "arena"}
    assert _pure_ports("preempt") == {"preempt"}
    for name in PORTS:
        off = _pure_ports(name)
        assert name in off
        for other in PORTS.values():  # a port is on only if all it needs is on
            if other.name not in off:
                assert not off.intersection(other.needs), (name, other.name)


def test_unknown_port_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no port named 'chanx'") as ref:
        _pure_ports("chan,chanx")
    for name in PORTS:
        assert name in str(ref.value)
    out = _run("chanx")
    assert out.returncode != 0
    assert "GOROUTINES_PURE='chanx': no port named 'chanx'" in out.stderr
    assert ", ".join(PORTS) in out.stderr


@needs_build
@pytest.mark.parametrize("pure", ["", "1", *PORTS, "chan,select", "go,waitgroup"])
def test_each_port_can_be_turned_off(pure: str) -> None:
    out = _run(pure)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["ok"]
    assert set(report["active"]) == set(PORTS) - _pure_ports(pure)


def test_port_lookup() -> None:
    for name in PORTS:
        assert (accel.port(name) is not None) == (name in accel.active_ports())
    with pytest.raises(KeyError, match="no port named 'nope'"):
        accel.port("nope")


@pytest.mark.skipif(accel.port("waitgroup") is None, reason="the port is not in use")
def test_setup_checks_the_slots_it_is_given() -> None:
    from goroutines import Chan, WaitGroup

    sp = accel.speedups
    slots = accel.slot_descriptors("waitgroup")
    objects: dict[str, object] = {
        "cls": WaitGroup,
        "py_add": WaitGroup.add.__wrapped__,
        "py_done": WaitGroup.done.__wrapped__,
    }
    with pytest.raises(
        RuntimeError, match="2 slot descriptors given, this build of the accelerator reads 3"
    ):
        sp.setup_waitgroup(slots[:2], **objects)
    with pytest.raises(TypeError, match="not a slot of"):
        sp.setup_waitgroup((*slots[:2], vars(Chan)["_lock"]), **objects)
    with pytest.raises(TypeError, match="not a __slots__ member"):
        sp.setup_waitgroup((*slots[:2], "_waiters"), **objects)
    with pytest.raises(TypeError, match="missing keyword argument 'py_done'"):
        sp.setup_waitgroup(slots, cls=WaitGroup, py_add=objects["py_add"])
    # Nothing was changed: the port still works.
    wg = WaitGroup()
    wg.add(2)
    wg.done()
    wg.done()
    wg.wait()
