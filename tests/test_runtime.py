"""Goroutines and the runtime: go, Goroutine, current, gosched, num_goroutine,
run, dump, max_procs, blocking, wait_readable/wait_writable, contextvars, and
the implicit model (no run()), which is tested in child processes."""

from __future__ import annotations

import contextvars
import functools
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import goroutines
from _synctest import wait_parked, wait_until
from goroutines import (
    Chan,
    Goroutine,
    blocking,
    current,
    dump,
    go,
    gosched,
    max_procs,
    num_goroutine,
    recv,
    select,
    sleep,
    wait_readable,
    wait_writable,
)


def run_child(code: str, timeout: float = 30, **env: str) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter; returns the completed process."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
    )


# ---------------------------------------------------------------------------
# go()


def test_go_starts_the_function_with_its_arguments() -> None:
    def main() -> None:
        out: Chan[tuple[Any, ...]] = Chan(1)
        go(lambda a, b, *, c: out.send((a, b, c)), 1, 2, c=3)
        assert out.recv() == (1, 2, 3)

    goroutines.run(main)


def test_go_never_blocks_the_caller() -> None:
    def main() -> None:
        trace: list[str] = []
        go(trace.append, "goroutine")
        trace.append("caller")
        gosched()
        assert trace == ["caller", "goroutine"], trace

    goroutines.run(main)


@pytest.mark.parametrize("bad", [None, 3, "f", [print]])
def test_go_rejects_a_non_callable_and_says_how_to_pass_a_function(bad: object) -> None:
    with pytest.raises(TypeError, match=re.escape("go(f, x), not go(f(x))")):
        go(bad)  # type: ignore[arg-type]


def test_go_of_a_called_function_says_calling_instead_of_passing() -> None:
    def gen() -> Any:
        yield 1

    async def coro() -> None:
        pass

    c = coro()
    try:
        with pytest.raises(TypeError, match="called the function instead of passing it"):
            go(c)  # type: ignore[arg-type]
    finally:
        c.close()
    with pytest.raises(TypeError, match="called the function instead of passing it"):
        go(gen())  # type: ignore[arg-type]


def test_go_rejects_async_def_functions_with_the_fix() -> None:
    async def coro() -> None:
        pass

    class K:
        async def method(self) -> None:
            pass

    for fn in (coro, K().method, functools.partial(coro)):
        with pytest.raises(TypeError, match=r"async function.*plain def"):
            go(fn)


def test_go_rejects_async_generator_functions() -> None:
    async def agen() -> Any:
        yield 1

    with pytest.raises(TypeError, match="async"):
        go(agen)


def test_go_accepts_any_callable() -> None:
    def main() -> None:
        out: Chan[str] = Chan(5)

        class Call:
            def __call__(self) -> None:
                out.send("instance")

        go(Call())
        go(functools.partial(out.send, "partial"))
        go(out.send, "bound method")
        got = sorted(out.recv() or "" for _ in range(3))
        assert got == ["bound method", "instance", "partial"]

    goroutines.run(main)


def test_go_from_a_plain_thread_runs_on_the_background_scheduler() -> None:
    out: Chan[tuple[str, bool]] = Chan(1)

    def body() -> None:
        out.send((threading.current_thread().name, current().id > 1))

    def thread() -> None:
        go(body)
        v = out.recv()
        assert v is not None
        box.append(v)

    box: list[tuple[str, bool]] = []
    t = threading.Thread(target=thread)
    t.start()
    t.join(10)
    assert box and box[0][1], box
    assert box[0][0] != t.name, "the goroutine ran on the thread that called go()"


# ---------------------------------------------------------------------------
# Goroutine, current


def test_main_goroutine_is_goroutine_1_named_main() -> None:
    def main() -> tuple[int, str, str]:
        g = current()
        return g.id, g.name, g.state

    assert goroutines.run(main) == (1, "main", "running")


def test_goroutine_ids_are_unique_and_name_defaults_to_the_qualname() -> None:
    def worker() -> None:
        pass

    def main() -> None:
        gs = [go(worker) for _ in range(5)]
        ids = [g.id for g in gs]
        assert len(set(ids)) == 5 and all(i > 1 for i in ids), ids
        assert gs[0].name == worker.__qualname__, gs[0].name
        assert isinstance(gs[0], Goroutine)

    goroutines.run(main)


def test_goroutine_name_is_writable_and_shows_in_dump() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        g = go(c.recv)
        g.name = "the-receiver"
        assert g.name == "the-receiver"
        wait_parked(g, "chan receive")
        assert "the-receiver" in repr(g)
        c.send(1)

    goroutines.run(main)


def test_goroutine_states_runnable_running_waiting_dead() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        seen: list[str] = []

        def body() -> None:
            seen.append(current().state)
            c.recv()

        g = go(body)
        assert g.state == "runnable"
        wait_parked(g, "chan receive")
        assert seen == ["running"]
        assert g.state == "waiting"
        c.send(1)
        assert g.state == "runnable", "a readied goroutine is runnable until it runs"
        wait_until(lambda: g.state == "dead", "the goroutine to end")

    goroutines.run(main)


def test_wait_reasons_use_go_words() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        r, w = os.pipe()
        try:
            cases: list[tuple[Callable[..., Any], tuple[Any, ...], str]] = [
                (c.recv, (), "chan receive"),
                (Chan().send, (1,), "chan send"),
                (select, (recv(c), recv(Chan())), "select"),
                (select, (), "select (no cases)"),
                (sleep, (3600,), "sleep"),
                (wait_readable, (r,), "IO wait"),
            ]
            gs = []
            for fn, args, reason in cases:
                g = go(fn, *args)
                wait_parked(g, reason)
                gs.append(g)
            for g, (_, _, reason) in zip(gs, cases, strict=True):
                assert g.state == "waiting" and g.wait_reason == reason, (g, reason)
        finally:
            os.close(r)
            os.close(w)

    goroutines.run(main)


def test_blocking_call_waits_with_reason_syscall() -> None:
    def main() -> None:
        release = threading.Event()
        g = go(blocking, release.wait, 10)
        wait_until(lambda: g.state == "waiting", "the goroutine to block")
        assert g.wait_reason == "syscall"
        release.set()
        wait_until(lambda: g.state == "dead", "the blocking call to return", rounds=10**7)

    goroutines.run(main)


def test_current_returns_the_calling_goroutine() -> None:
    def main() -> None:
        out: Chan[Goroutine] = Chan(1)
        g = go(lambda: out.send(current()))
        assert out.recv() is g
        assert current().id == 1

    goroutines.run(main)


def test_current_from_a_plain_thread_raises() -> None:
    errors: list[BaseException] = []

    def thread() -> None:
        try:
            current()
        except RuntimeError as e:
            errors.append(e)

    t = threading.Thread(target=thread)
    t.start()
    t.join()
    assert errors and "foreign thread" in str(errors[0])


# ---------------------------------------------------------------------------
# gosched, num_goroutine


def test_gosched_lets_other_goroutines_run_in_turn() -> None:
    def main() -> None:
        trace: list[str] = []
        done: Chan[None] = Chan()

        def worker(name: str) -> None:
            for i in range(3):
                trace.append(f"{name}{i}")
                gosched()
            done.send(None)

        go(worker, "a")
        go(worker, "b")
        done.recv()
        done.recv()
        assert trace == ["a0", "b0", "a1", "b1", "a2", "b2"], trace

    goroutines.run(main)


def test_gosched_with_nothing_else_to_run_returns() -> None:
    def main() -> None:
        for _ in range(100):
            gosched()

    goroutines.run(main)


def test_num_goroutine_counts_live_user_goroutines() -> None:
    def main() -> None:
        assert num_goroutine() == 1
        c: Chan[int] = Chan()
        gs = [go(c.recv) for _ in range(10)]
        assert num_goroutine() == 11
        for g in gs:
            wait_parked(g, "chan receive")
        # blocking() helper threads and timers are not goroutines
        blocking(time.sleep, 0)
        sleep(0.001)
        assert num_goroutine() == 11
        for i in range(10):
            c.send(i)
        wait_until(lambda: all(g.state == "dead" for g in gs), "receivers to end")
        assert num_goroutine() == 1

    goroutines.run(main)


# ---------------------------------------------------------------------------
# contextvars

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


def test_goroutine_runs_in_a_copy_of_the_spawners_context() -> None:
    def main() -> None:
        out: Chan[str] = Chan(1)
        var.set("parent")

        def child() -> None:
            out.send(var.get())
            var.set("child")  # must not leak to the parent
            out.send(var.get())

        go(child)
        var.set("parent, after go")  # must not reach the child's copy
        assert out.recv() == "parent"
        assert out.recv() == "child"
        assert var.get() == "parent, after go"

    goroutines.run(main)


def test_each_goroutine_has_its_own_context_copy() -> None:
    def main() -> None:
        out: Chan[tuple[int, str]] = Chan(10)
        gate: Chan[None] = Chan()

        def child(k: int) -> None:
            var.set(f"child {k}")
            gate.recv()  # let the others set theirs
            out.send((k, var.get()))

        for k in range(5):
            go(child, k)
        for _ in range(5):
            gate.send(None)
        got = sorted(out.recv() for _ in range(5))  # type: ignore[type-var]
        assert got == [(k, f"child {k}") for k in range(5)], got

    goroutines.run(main)


def test_a_goroutine_does_not_see_what_the_previous_one_on_its_worker_set() -> None:
    # Goroutines that finish run one after another on one worker greenlet.
    fresh: contextvars.ContextVar[str] = contextvars.ContextVar("fresh", default="unset")

    def main() -> None:
        out: Chan[str] = Chan(4)

        def setter() -> None:
            fresh.set("set")
            out.send(fresh.get())

        def reader() -> None:
            out.send(fresh.get())

        for _ in range(2):
            go(setter)
            go(reader)
        assert [out.recv() for _ in range(4)] == ["set", "unset"] * 2
        assert fresh.get() == "unset"

    # An empty context (goroutines start with none) and a non-empty one
    # (goroutines start with a copy).
    contextvars.Context().run(goroutines.run, main)
    ctx = contextvars.copy_context()
    ctx.run(var.set, "outer")
    ctx.run(goroutines.run, main)


def test_go_sets_every_field_that_goroutine_init_sets() -> None:
    # proc.go() builds a G without calling G.__init__.
    from goroutines._runtime.g import G

    def fields(g: Any) -> set[str]:
        return {n for n in G.__slots__ if n != "__weakref__" and hasattr(g, n)}

    def main() -> None:
        assert fields(go(lambda: None)) == fields(G(0, None, (), None))

    goroutines.run(main)


def test_goroutine_with_keyword_arguments() -> None:
    def main() -> None:
        out: Chan[tuple[Any, ...]] = Chan(3)
        go(lambda *a, **k: out.send((a, k)), 1, 2, x=3)
        go(lambda **k: out.send(((), k)), y=4)
        go(lambda a, b, c, d, e: out.send((a, b, c, d, e)), 1, 2, 3, 4, 5)
        got = [out.recv() for _ in range(3)]
        assert got == [((1, 2), {"x": 3}), ((), {"y": 4}), (1, 2, 3, 4, 5)], got

    goroutines.run(main)


def test_after_func_and_blocking_see_the_context() -> None:
    def main() -> None:
        var.set("ctx")
        assert blocking(var.get) == "ctx", "blocking() must run fn in the caller's context"

    goroutines.run(main)


# ---------------------------------------------------------------------------
# run()


def test_run_returns_mains_result_and_passes_arguments() -> None:
    assert goroutines.run(lambda a, b=0: a + b, 2, b=3) == 5


def test_run_raises_what_main_raises() -> None:
    def main() -> None:
        raise KeyError("from main")

    with pytest.raises(KeyError, match="from main"):
        goroutines.run(main)


def test_run_kills_goroutines_still_alive_and_their_finally_blocks_run() -> None:
    log: list[str] = []

    def main() -> None:
        c: Chan[int] = Chan()

        def blocked(name: str) -> None:
            try:
                c.recv()
            finally:
                log.append(f"{name} finally")

        def sleeper() -> None:
            try:
                sleep(3600)
            finally:
                log.append("sleeper finally")

        for name in ("a", "b"):
            g = go(blocked, name)
            wait_parked(g, "chan receive")
        g = go(sleeper)
        wait_parked(g, "sleep")
        go(log.append, "never started")  # killed before it ever runs

    goroutines.run(main)
    assert sorted(log) == ["a finally", "b finally", "sleeper finally"], log
    assert num_goroutine() == 1


def test_run_kills_goroutines_even_when_main_raises() -> None:
    log: list[str] = []

    def main() -> None:
        def blocked() -> None:
            try:
                Chan().recv()
            finally:
                log.append("finally")

        wait_parked(go(blocked), "chan receive")
        raise ValueError("main failed")

    with pytest.raises(ValueError, match="main failed"):
        goroutines.run(main)
    assert log == ["finally"]
    assert num_goroutine() == 1


def test_a_park_while_being_killed_raises_at_once() -> None:
    log: list[str] = []

    def main() -> None:
        c: Chan[int] = Chan()

        def stubborn() -> None:
            try:
                c.recv()
            finally:
                for op in (c.recv, lambda: c.send(1), lambda: sleep(1), lambda: select()):
                    try:
                        op()
                        log.append("returned")
                    except BaseException as e:
                        log.append(type(e).__name__)

        wait_parked(go(stubborn), "chan receive")

    t0 = time.monotonic()
    goroutines.run(main)
    assert log == ["GreenletExit"] * 4, log
    assert time.monotonic() - t0 < 1.0


def test_consecutive_runs_start_clean() -> None:
    def leaves_goroutines() -> int:
        for _ in range(5):
            go(Chan().recv)
        gosched()
        return num_goroutine()

    assert goroutines.run(leaves_goroutines) == 6
    assert num_goroutine() == 1

    def fresh() -> tuple[int, int, int]:
        return num_goroutine(), current().id, go(lambda: None).id

    assert goroutines.run(fresh) == (1, 1, 2)
    assert goroutines.run(fresh) == (1, 1, 2)


def test_run_from_inside_a_goroutine_raises_runtime_error() -> None:
    def main() -> None:
        with pytest.raises(RuntimeError, match="inside a goroutine"):
            goroutines.run(lambda: None)
        out: Chan[str] = Chan(1)

        def inner() -> None:
            try:
                goroutines.run(lambda: None)
                out.send("run returned")
            except RuntimeError as e:
                out.send(str(e))

        go(inner)
        assert "inside a goroutine" in (out.recv() or "")

    goroutines.run(main)


def test_run_rejects_non_callables_and_async_functions() -> None:
    async def coro() -> None:
        pass

    with pytest.raises(TypeError):
        goroutines.run(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="async"):
        goroutines.run(coro)


def test_run_on_a_plain_thread_works() -> None:
    box: list[Any] = []

    def main() -> tuple[int | None, int]:
        c: Chan[int] = Chan()
        go(c.send, 7)
        return c.recv(), num_goroutine()

    def thread() -> None:
        try:
            box.append(goroutines.run(main))
        except BaseException as e:
            box.append(e)

    t = threading.Thread(target=thread)
    t.start()
    t.join(10)
    assert box and box[0][0] == 7, box


# ---------------------------------------------------------------------------
# The implicit model (no run()): child processes


def test_implicit_model_script_uses_go_and_channels_without_run(tmp_path: Path) -> None:
    script = tmp_path / "prog.py"
    script.write_text(
        textwrap.dedent(
            """
            from goroutines import Chan, current, go, num_goroutine

            def worker(c):
                c.send(21 * 2)

            c = Chan()
            go(worker, c)
            print("got", c.recv(), "in goroutine", current().id, num_goroutine())
            """
        )
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "got 42 in goroutine 1 1\n", proc.stdout


def test_implicit_model_abandons_goroutines_when_the_script_ends() -> None:
    proc = run_child(
        """
        from goroutines import Chan, go, gosched

        def blocked():
            try:
                Chan().recv()
            finally:
                print("finally ran")

        go(blocked)
        gosched()
        print("main done")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "main done\n", proc.stdout


def test_implicit_model_reports_a_deadlock_at_top_level() -> None:
    proc = run_child(
        """
        from goroutines import Chan, Deadlock
        try:
            Chan().recv()
        except Deadlock as e:
            print(str(e).splitlines()[0])
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "all goroutines are asleep - deadlock!\n"


# ---------------------------------------------------------------------------
# Interpreter exit with Ps other than the main thread's

# A child whose other P (the background one, or run()'s on a daemon thread)
# is in a given state when the main module ends. An atexit handler
# registered before the import tells that the interpreter finalized normally
# (the exit did not have to cut it short).
EXIT_CHILD = """
import atexit, sys, threading
atexit.register(lambda: print("finalized", flush=True))
from goroutines import Chan, go, gosched, run

STATE = {state!r}
started = threading.Event()

def spin():
    started.set()
    n = 0
    while True:
        n += 1
        if n % 100_000 == 0 and STATE != "computing without runtime calls":
            gosched()

def parked():
    started.set()
    Chan().recv()

if STATE == "busy":
    threading.Thread(target=go, args=(spin,)).start()
elif STATE == "parked on a channel":
    threading.Thread(target=go, args=(parked,)).start()
elif STATE == "idle":
    threading.Thread(target=go, args=(started.set,)).start()
elif STATE == "busy under run() on a daemon thread":
    def main():
        go(spin)
        Chan().recv()
    threading.Thread(target=run, args=(main,), daemon=True).start()
else:  # computing without runtime calls
    threading.Thread(target=go, args=(spin,)).start()
started.wait()
print("main done")
{end}
"""

EXIT_STATES = ["busy", "parked on a channel", "idle", "busy under run() on a daemon thread"]


def run_children(code: str, runs: int) -> list[subprocess.CompletedProcess[str]]:
    """code in `runs` fresh interpreters, four at a time."""
    done: list[subprocess.CompletedProcess[str]] = []
    for start in range(0, runs, 4):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(min(4, runs - start))
        ]
        for proc in procs:
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


@pytest.mark.parametrize(
    ("waited", "used", "give_up"),
    [
        (0.05, [0.0], False),  # early
        (0.2, [0.1], True),  # computing without schedule points
        (0.2, [0.01, 0.1], True),  # one of two Ps does
        (0.6, [0.0], True),  # asleep in a call
        (0.6, [0.0, 0.001], True),  # both asleep
        (0.6, [0.02], False),  # running slowly on a loaded machine: it will get there
        (0.6, [0.0, 0.02], False),  # one still makes progress
        (5.0, [0.02], True),  # never for ever
    ],
)
def test_exit_waits_for_a_slow_p_but_not_for_a_stuck_one(
    waited: float, used: list[float], give_up: bool
) -> None:
    from goroutines._runtime import exit as _exit

    assert _exit._give_up(waited, used) is give_up


@pytest.mark.timeout(600)
@pytest.mark.parametrize("state", EXIT_STATES)
def test_a_p_at_interpreter_exit_parks_and_the_interpreter_finalizes(
    state: str, short: bool
) -> None:
    # A goroutine running on another thread at exit was stopped by CPython
    # inside its greenlet: SIGSEGV in 39 runs of 40 on 3.11, "Fatal Python
    # error: PyThreadState_Get" on 3.13. Every P parks at its next
    # schedule point instead, and the interpreter finalizes as usual.
    procs = run_children(textwrap.dedent(EXIT_CHILD.format(state=state, end="")), 8 if short else 50)
    bad = [p for p in procs if (p.returncode, p.stdout, p.stderr) != (0, "main done\nfinalized\n", "")]
    assert not bad, (
        f"{len(bad)} of {len(procs)} runs: status {bad[0].returncode}, "
        f"stdout {bad[0].stdout!r}, stderr {bad[0].stderr[-2000:]}"
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("end", "status"),
    [("", 0), ("raise ValueError('main failed')", 1), ("raise KeyboardInterrupt", -signal.SIGINT)],
)
def test_a_p_that_cannot_park_at_exit_ends_the_process_with_the_interpreters_status(
    end: str, status: int
) -> None:
    # A goroutine computing without runtime calls never reaches a schedule
    # point: after EXIT_PARK_WAIT the process exits at once (no finalizing,
    # so the older atexit handler does not run), stdio flushed, with the
    # status the script would have had.
    # With preemption (3.12+, the accelerator) such a goroutine is switched
    # out and parks at exit like the others: this needs one that cannot be.
    code = "import os; os.environ['GOROUTINES_PREEMPT'] = '0'\n" + textwrap.dedent(
        EXIT_CHILD.format(state="computing without runtime calls", end=end)
    )
    for proc in run_children(code, 4):
        assert proc.returncode == status, (proc.returncode, proc.stderr)
        assert proc.stdout == "main done\n", proc.stdout  # flushed; not finalized
        assert "Fatal Python error" not in proc.stderr, proc.stderr
        assert re.search(
            r"^goroutines: goroutine \d+ \[spin\] still running at exit, at no schedule point: "
            r"exiting without finalizing$",
            proc.stderr,
            re.M,
        ), proc.stderr


# ---------------------------------------------------------------------------
# dump()


def _park_here(c: Chan[int]) -> None:
    c.recv()  # the line dump() must show


def test_dump_layout_matches_go() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        g = go(_park_here, c)  # the creation site dump() must show
        created_line = sys._getframe().f_lineno - 1
        wait_parked(g, "chan receive")
        text = dump()
        blocks = text.strip("\n").split("\n\n")
        assert blocks[0].startswith("goroutine 1 [running]:\n"), text
        block = next(b for b in blocks if b.startswith(f"goroutine {g.id} "))
        lines = block.split("\n")
        assert lines[0] == f"goroutine {g.id} [chan receive]:", block
        park_line = _park_here.__code__.co_firstlineno + 1
        assert "test_runtime._park_here(...)" in lines, block
        i = lines.index("test_runtime._park_here(...)")
        assert lines[i + 1] == f"\t{__file__}:{park_line}", block
        assert lines[-2].startswith("created by test_runtime.") and lines[-2].endswith(
            " in goroutine 1"
        ), block
        assert "main" in lines[-2], block
        assert lines[-1] == f"\t{__file__}:{created_line}", block
        assert not any("goroutines/_runtime" in line for line in lines), block
        c.send(1)

    goroutines.run(main)


def test_dump_from_a_thread_shows_parked_main_at_its_park() -> None:
    # Goroutine 1's greenlet hosts the idle scheduler while it is parked: the
    # dump must show main's own frames, not the scheduler's poll.
    def main() -> None:
        c: Chan[str] = Chan()
        g1 = current()

        def thread() -> None:
            while g1.state != "waiting":
                time.sleep(0.001)
            c.send(dump())

        t = threading.Thread(target=thread)
        t.start()
        text = c.recv() or ""
        t.join()
        block = next(b for b in text.split("\n\n") if b.startswith("goroutine 1 "))
        assert block.startswith("goroutine 1 [chan receive]:"), text
        assert "selectors" not in block, block
        lines = block.splitlines()
        assert lines[1].startswith("goroutines._chan.Chan."), block  # innermost: the receive
        assert any("test_dump_from_a_thread_shows_parked_main_at_its_park" in x for x in lines)

    goroutines.run(main)


def test_dump_lists_every_goroutine_with_its_state() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        waiting = go(c.recv)
        wait_parked(waiting, "chan receive")
        sleeping = go(sleep, 3600)
        wait_parked(sleeping, "sleep")
        fresh = go(print)
        text = dump()
        assert f"goroutine {waiting.id} [chan receive]:" in text
        assert f"goroutine {sleeping.id} [sleep]:" in text
        assert f"goroutine {fresh.id} [runnable]:" in text
        assert text.count("\ngoroutine ") + text.startswith("goroutine ") == 4, text

    goroutines.run(main)


# ---------------------------------------------------------------------------
# max_procs


def test_max_procs_returns_the_previous_setting_and_sets_it() -> None:
    old = max_procs()
    try:
        assert max_procs(3) == old
        assert max_procs() == 3
        assert max_procs(0) == 3, "n < 1 only reads"
        assert max_procs(-5) == 3
        assert max_procs(None) == 3
        assert max_procs(1) == 3
        assert max_procs() == 1
    finally:
        max_procs(old)


@pytest.mark.parametrize("bad", ["2", 1.5, True])
def test_max_procs_rejects_a_non_int(bad: object) -> None:
    with pytest.raises(TypeError):
        max_procs(bad)  # type: ignore[arg-type]


def test_max_procs_defaults_to_env_gomaxprocs_else_the_usable_cpus() -> None:
    code = (
        "import goroutines, os; print(goroutines.max_procs(),"
        " len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count())"
    )
    proc = run_child(code, GOMAXPROCS="3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "3", proc.stdout
    env = {k: v for k, v in os.environ.items() if k != "GOMAXPROCS"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=env
    )
    procs, cpus = proc.stdout.split()
    assert procs == cpus, proc.stdout


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity masks here")
def test_max_procs_counts_the_cpus_the_affinity_mask_allows() -> None:
    """A process pinned to one CPU (taskset, a cpuset) gets one P, as Go's
    GOMAXPROCS does, however many CPUs the machine has."""
    code = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))});"
        " import goroutines; print(goroutines.max_procs())"
    )
    env = {k: v for k, v in os.environ.items() if k != "GOMAXPROCS"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1"], proc.stdout


# ---------------------------------------------------------------------------
# blocking()


def test_blocking_returns_the_result_or_raises_the_exception() -> None:
    def fail() -> None:
        raise OSError("from the helper thread")

    def main() -> None:
        assert blocking(lambda a, b: a * b, 6, b=7) == 42
        with pytest.raises(OSError, match="from the helper thread"):
            blocking(fail)

    goroutines.run(main)


def test_blocking_lets_other_goroutines_run() -> None:
    def main() -> None:
        ticks: list[int] = []
        release = threading.Event()

        def ticker() -> None:
            for i in range(5):
                ticks.append(i)
                sleep(0.001)
            release.set()

        go(ticker)
        assert blocking(release.wait, 10), "the goroutines did not run during blocking()"
        assert ticks == [0, 1, 2, 3, 4]

    goroutines.run(main)


def test_blocking_calls_from_many_goroutines_run_at_the_same_time() -> None:
    n = 20

    def main() -> None:
        barrier = threading.Barrier(n, timeout=10)
        done: Chan[int] = Chan(n)
        for _ in range(n):
            go(lambda: done.send(blocking(barrier.wait)))
        got = sorted(done.recv() or 0 for _ in range(n))
        assert got == list(range(n)), "blocking() calls did not run concurrently"

    goroutines.run(main)


def test_blocking_outside_a_goroutine_just_calls_fn() -> None:
    box: list[Any] = []
    t = threading.Thread(target=lambda: box.append(blocking(threading.get_ident)))
    t.start()
    t.join()
    assert box == [t.ident]


# ---------------------------------------------------------------------------
# wait_readable / wait_writable


def test_wait_readable_parks_until_a_pipe_has_data() -> None:
    def main() -> None:
        r, w = os.pipe()
        try:
            out: Chan[bytes] = Chan(1)

            def reader() -> None:
                wait_readable(r)
                out.send(os.read(r, 100))

            g = go(reader)
            wait_parked(g, "IO wait")
            gosched()
            assert g.state == "waiting", "woke with nothing to read"
            os.write(w, b"hello")
            assert out.recv() == b"hello"
        finally:
            os.close(r)
            os.close(w)

    goroutines.run(main)


def test_wait_readable_wakes_for_data_written_by_a_plain_thread() -> None:
    def main() -> None:
        a, b = socket.socketpair()
        with a, b:
            writer = threading.Thread(target=lambda: (time.sleep(0.01), b.sendall(b"ping")))
            writer.start()
            wait_readable(a)  # goroutine 1 parks; the thread is a possible waker
            assert a.recv(10) == b"ping"
            writer.join()

    goroutines.run(main)


def test_wait_writable_parks_until_a_full_pipe_drains() -> None:
    def main() -> None:
        r, w = os.pipe()
        os.set_blocking(w, False)
        try:
            wait_writable(w)  # an empty pipe is writable at once
            filled = 0
            while True:
                try:
                    filled += os.write(w, b"x" * 65536)
                except BlockingIOError:
                    break
            out: Chan[str] = Chan(1)

            def writer() -> None:
                wait_writable(w)
                out.send("writable")

            g = go(writer)
            wait_parked(g, "IO wait")
            drained = 0
            while drained < filled:
                drained += len(os.read(r, 1 << 20))
            assert out.recv() == "writable"
        finally:
            os.close(r)
            os.close(w)

    goroutines.run(main)


def test_several_goroutines_wait_on_one_fd() -> None:
    def main() -> None:
        a, b = socket.socketpair()
        with a, b:
            out: Chan[int] = Chan(3)
            gs = [go(lambda k=k: (wait_readable(a), out.send(k))) for k in range(3)]
            for g in gs:
                wait_parked(g, "IO wait")
            b.sendall(b"!")
            assert sorted(out.recv() or 0 for _ in range(3)) == [0, 1, 2]

    goroutines.run(main)


def test_wait_readable_accepts_objects_with_fileno() -> None:
    def main() -> None:
        a, b = socket.socketpair()
        with a, b:
            b.sendall(b"x")
            wait_readable(a)
            wait_writable(b)

    goroutines.run(main)


def test_wait_readable_rejects_bad_descriptors() -> None:
    with pytest.raises(ValueError, match="fd"):
        wait_readable(-1)
    with pytest.raises(TypeError, match="fd"):
        wait_writable("3")


def test_wait_readable_from_a_plain_thread_blocks_the_thread() -> None:
    a, b = socket.socketpair()
    with a, b:
        done = threading.Event()

        def thread() -> None:
            wait_readable(a)
            done.set()

        t = threading.Thread(target=thread)
        t.start()
        b.sendall(b"x")
        t.join(10)
        assert done.is_set()


def test_finished_goroutines_hold_no_chain_of_dead_greenlets() -> None:
    # A worker greenlet that ends (more idle workers than MAX_FREE_WORKERS)
    # names the next goroutine's greenlet its parent. Finished goroutines
    # kept by the program used to hold their greenlets, so a daisy chain
    # left a chain of dead greenlets ~4,000 long, freed recursively: that
    # overflowed the C stack of the thread that collected it (the suite's
    # rare SIGSEGV right after test_stress.py, seen in gdb as ~6,500 nested
    # green_dealloc calls on a blocking() helper thread).
    from goroutines import Chan, go, run

    def main() -> list[Any]:
        leftmost: Chan[int] = Chan()
        left = leftmost
        handles = []
        for _ in range(3000):
            right: Chan[int] = Chan()
            handles.append(go(lambda lo, ro: lo.send(1 + ro.recv()), left, right))
            left = right
        right.send(1)
        assert leftmost.recv() == 3001
        return handles

    def depth(g: Any) -> int:
        n, gr = 0, g.greenlet
        while gr is not None:
            n, gr = n + 1, gr.parent
        return n

    handles = run(main)
    assert max(depth(h) for h in handles) <= 3
