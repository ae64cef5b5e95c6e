"""The command line: python -m goroutines run [--procs N] script.py [args...],
with Go's exit statuses (0 ok, 2 on a deadlock or an unhandled panic)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def write(tmp_path: Path, code: str, name: str = "prog.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


def goroutines_cmd(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goroutines", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_run_executes_the_script_as_main_with_its_arguments(tmp_path: Path) -> None:
    script = write(
        tmp_path,
        """
        import sys
        from goroutines import Chan, current, go

        def worker(c, args):
            c.send(" ".join(args))

        if __name__ == "__main__":
            c = Chan()
            go(worker, c, sys.argv[1:])
            print(f"{c.recv()} | argv0={sys.argv[0]} | goroutine {current().id}")
        """,
    )
    proc = goroutines_cmd("run", script, "a", "--b", "-c", "d e")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"a --b -c d e | argv0={script} | goroutine 1\n", proc.stdout
    assert proc.stderr == ""


def test_run_puts_the_script_directory_on_sys_path(tmp_path: Path) -> None:
    write(tmp_path, "VALUE = 'sibling module'\n", name="helper_mod.py")
    script = write(tmp_path, "import helper_mod\nprint(helper_mod.VALUE)\n")
    proc = goroutines_cmd("run", script, cwd=Path("/"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "sibling module\n"


def test_deadlock_prints_fatal_error_with_the_dump_and_exits_2(tmp_path: Path) -> None:
    script = write(
        tmp_path,
        """
        from goroutines import Chan, go

        def stuck(c):
            c.send(1)

        go(stuck, Chan())
        Chan().recv()
        """,
    )
    proc = goroutines_cmd("run", script)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith("fatal error: all goroutines are asleep - deadlock!\n"), (
        proc.stderr
    )
    assert "goroutine 1 [chan receive]:" in proc.stderr
    assert "goroutine 2 [chan send]:" in proc.stderr
    assert f"{script}:8" in proc.stderr, "the dump must point at the blocked line"
    assert "created by __main__.<module> in goroutine 1" in proc.stderr, proc.stderr
    assert "runpy" not in proc.stderr, "the command's own frames must not show"


def test_goroutine_panic_prints_panic_traceback_and_dump_and_exits_2(tmp_path: Path) -> None:
    script = write(
        tmp_path,
        """
        from goroutines import Chan, go

        def worker():
            raise ValueError("boom in worker")

        go(worker)
        Chan().recv()
        """,
    )
    proc = goroutines_cmd("run", script)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    err = proc.stderr
    assert err.startswith("panic: "), err
    assert "ValueError: boom in worker" in err.splitlines()[0], err
    assert "Traceback (most recent call last):" in err, err
    assert f'File "{script}", line 5, in worker' in err, err
    assert "goroutine 1 [" in err, "the dump must follow the traceback"


def test_panic_never_met_by_main_still_exits_2(tmp_path: Path) -> None:
    script = write(
        tmp_path,
        """
        import threading, time
        from goroutines import go

        def worker():
            raise KeyError("late")

        def thread():  # the panic is never met: gosched() would raise it
            g = go(worker)
            while g.state != "dead":
                time.sleep(0.001)

        t = threading.Thread(target=thread)
        t.start()
        t.join()
        print("script ended")
        """,
    )
    proc = goroutines_cmd("run", script)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == "script ended\n"
    assert proc.stderr.startswith("panic: ") and "KeyError: 'late'" in proc.stderr, proc.stderr


def test_exception_in_the_script_prints_the_traceback_and_exits_2(tmp_path: Path) -> None:
    script = write(
        tmp_path,
        """
        def f():
            raise RuntimeError("script failed")

        f()
        """,
    )
    proc = goroutines_cmd("run", script)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    err = proc.stderr
    assert "Traceback (most recent call last):" in err, err
    assert "RuntimeError: script failed" in err, err
    assert f'File "{script}", line 3, in f' in err, err
    assert "runpy" not in err, err


@pytest.mark.parametrize(
    ("code", "status", "stderr"),
    [
        ("raise SystemExit(0)", 0, ""),
        ("import sys; sys.exit(3)", 3, ""),
        ("import sys; sys.exit('bye')", 1, "bye\n"),
        ("import sys; from goroutines import go, Chan; go(sys.exit, 4); Chan().recv()", 4, ""),
    ],
    ids=["exit-0", "exit-3", "exit-message", "exit-from-goroutine"],
)
def test_system_exit_passes_its_code_through(
    tmp_path: Path, code: str, status: int, stderr: str
) -> None:
    proc = goroutines_cmd("run", write(tmp_path, code + "\n"))
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert proc.stderr == stderr


def test_goroutines_left_when_the_script_ends_are_killed(tmp_path: Path) -> None:
    script = write(
        tmp_path,
        """
        from goroutines import Chan, go, gosched

        def blocked():
            try:
                Chan().recv()
            finally:
                print("finally of a blocked goroutine")

        go(blocked)
        gosched()
        print("script ended")
        """,
    )
    proc = goroutines_cmd("run", script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "script ended\nfinally of a blocked goroutine\n"


@pytest.mark.parametrize("form", [["--procs", "3"], ["--procs=3"]])
def test_procs_sets_max_procs(tmp_path: Path, form: list[str]) -> None:
    script = write(tmp_path, "import goroutines\nprint(goroutines.max_procs())\n")
    proc = goroutines_cmd("run", *form, script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "3\n"


def test_script_that_calls_run_itself_gets_a_hint(tmp_path: Path) -> None:
    script = write(tmp_path, "import goroutines\ngoroutines.run(lambda: None)\n")
    proc = goroutines_cmd("run", script)
    assert proc.returncode == 2
    assert "already runs it as the main goroutine" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["walk"],
        ["run"],
        ["run", "--procs"],
        ["run", "--procs", "x", "prog.py"],
        ["run", "--procs", "0", "prog.py"],
        ["run", "--race-typo", "prog.py"],
    ],
    ids=[
        "no-args",
        "unknown-command",
        "no-script",
        "procs-no-value",
        "procs-not-int",
        "procs-zero",
        "unknown-option",
    ],
)
def test_usage_errors_print_usage_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    write(tmp_path, "print('should not run')\n")
    proc = goroutines_cmd(*args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "usage: python -m goroutines run" in proc.stderr, proc.stderr
    assert proc.stdout == ""


def test_missing_script_file_exits_2(tmp_path: Path) -> None:
    proc = goroutines_cmd("run", tmp_path / "nope.py")
    assert proc.returncode == 2
    assert "nope.py" in proc.stderr


def test_help_prints_usage_and_exits_0() -> None:
    for args in (["--help"], ["-h"], ["run", "--help"]):
        proc = goroutines_cmd(*args)
        assert proc.returncode == 0, args
        assert proc.stdout.startswith("usage: python -m goroutines run"), proc.stdout
