"""The command line: ``python -m goroutines run [--procs N] [--leaks] [--lockorder] script.py``.

Runs the script as the main goroutine (as ``__main__``, ``sys.argv[1:]`` = its
args) through ``runpy.run_path`` inside ``goroutines.run``, and exits as a Go
program does:

  * 0 when the script returns;
  * 2 on a deadlock: ``fatal error: all goroutines are asleep - deadlock!``
    and the goroutine dump (the Deadlock text carries both) on stderr;
  * 2 on an unhandled panic, in a goroutine (GoroutinePanic) or in the script
    itself (Go exits 2 for a panic in main too): ``panic: ``, the traceback of
    what was raised, and the dump of the goroutines alive at that moment;
  * a SystemExit's own code (``sys.exit(3)`` exits 3);
  * 2 with the usage on a usage error, as Go's tools do;
  * 3 when a detector asked for found something in a script that otherwise
    returned: ``--leaks`` (goroutines blocked forever when it returned),
    ``--lockorder`` (a lock order inversion); see _detect.py;
  * 66 (Go's) when ``--race`` found a data race in a script that otherwise
    returned, whatever the other detectors found. ``--race`` checks the lock
    order too, as ``--lockorder`` does.
KeyboardInterrupt is left to Python (it dies of SIGINT, as Go does).

Why inside ``run``: goroutines still alive when the script ends are killed
(their ``finally`` blocks run) before the process exits. The price: a script
that itself calls ``goroutines.run(main)`` gets run()'s RuntimeError (it is
already the main goroutine); the message below says how to fix that.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from . import _detect, _go
from .errors import Deadlock, GoroutinePanic

USAGE = """\
usage: python -m goroutines run [--procs N] [--race] [--leaks] [--lockorder] [--trace FILE] script.py [args...]
       python -m goroutines vet PATH...
       python -m goroutines trace FILE.json [-o FILE.html]

commands:
  run    run script.py as the main goroutine (as __main__, with sys.argv[1:] =
         args); exit status 2 on a deadlock or an unhandled panic, as Go
  vet    check Python files for the classic mistakes of concurrent code
         (`python -m goroutines vet --help` lists the checks); exit status 1
         when it finds any
  trace  turn a trace written by --trace into a self-contained HTML timeline
         (default output: FILE.html beside it)

options:
  --procs N   set max_procs(N) (GOMAXPROCS) before the script starts
  --leaks     when the script returns, report the goroutines blocked forever
              (goroutines.leaks()), grouped by creation site; exit status 3
  --lockorder report Mutex/RWMutex lock order inversions (POTENTIAL DEADLOCK)
              as they are found, even when the run does not deadlock; exit
              status 3 when the script otherwise succeeded
  --race      run with the race detector: report data races in Go's format;
              exit status 66 if any was found (GORACE="halt_on_error=1":
              stop at the first); checks the lock order too (--lockorder)
  --race-include PKG / --race-exclude PKG
              also instrument (never instrument) package PKG; by default the
              script and the modules beside it are instrumented
  --trace FILE
              record an execution trace into FILE (Chrome/Perfetto
              trace-event JSON): goroutine states, blocking() calls, timers,
              hand-offs, GC
  --trace-chan
              also record channel operations and selects, with flow arrows
              from each operation to the partner it woke (many more events)
  --trace-ring MB
              keep only the last ~MB megabytes of events (a flight recorder)
"""


_RUNTIME_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_runtime") + os.sep
_HIDDEN_FILES = frozenset({os.path.abspath(__file__), os.path.abspath(runpy.__file__ or "")})


class _UsageError(Exception):
    pass


# The detectors' flags (`run --leaks`, `run --lockorder`), by option.
_CHECKS = {"--leaks": "leaks", "--lockorder": "lockorder"}


def _parse(argv: list[str], checks: set[str] | None = None) -> tuple[int | None, str, list[str]]:
    """(procs, script, script args) from the arguments after ``run``; the
    detectors asked for are added to ``checks``."""
    procs: int | None = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if arg in _CHECKS:
            if checks is not None:
                checks.add(_CHECKS[arg])
            i += 1
            continue
        if arg == "--procs" or arg.startswith("--procs="):
            if arg == "--procs":
                if i + 1 >= len(argv):
                    raise _UsageError("--procs needs a value")
                value = argv[i + 1]
                i += 2
            else:
                value = arg.partition("=")[2]
                i += 1
            try:
                procs = int(value)
            except ValueError:
                raise _UsageError(f"--procs: not an integer: {value!r}") from None
            if procs < 1:
                raise _UsageError(f"--procs: must be >= 1, got {procs}")
            continue
        if arg.startswith("-") and arg != "-":
            raise _UsageError(f"unknown option {arg!r}")
        break
    if i >= len(argv):
        raise _UsageError("missing script")
    return procs, argv[i], argv[i + 1 :]


def _script_tb(tb: TracebackType | None, script: str) -> TracebackType | None:
    """tb from the first frame of the script on (drops runpy and this module)."""
    t = tb
    while t is not None:
        if os.path.abspath(t.tb_frame.f_code.co_filename) == script:
            return t
        t = t.tb_next
    return tb


def _runtime_tb(tb: TracebackType | None) -> TracebackType | None:
    """tb without its leading runtime frames (the goroutine entry wrapper)."""
    t = tb
    while t is not None and os.path.abspath(t.tb_frame.f_code.co_filename).startswith(_RUNTIME_DIR):
        t = t.tb_next
    return t or tb


def _clean_dump(text: str) -> str:
    """The dump without the frames of this command (runpy, run(), dump())."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.endswith("(...)") and nxt.startswith("\t"):
            where = nxt[1:].rpartition(":")[0]
            func = line[: -len("(...)")]
            if not (
                where in _HIDDEN_FILES
                or where.startswith("<frozen runpy>")
                or func in ("goroutines._go.run", "goroutines._go.dump")
            ):
                out.extend((line, nxt))
            i += 2
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _report(head: str, exc: BaseException, tb: TracebackType | None, dump: str) -> None:
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    sys.stderr.write(f"{head}{type(exc).__name__}: {exc}\n\n{text}\n{_clean_dump(dump)}")
    sys.stderr.flush()


# -- the race detector's options (its code: goroutines/_race/) ----------------


class _RaceOpts:
    def __init__(self) -> None:
        self.on = False
        self.include: list[str] = []
        self.exclude: list[str] = []


def _race_opts(argv: list[str]) -> tuple[_RaceOpts, list[str]]:
    """--race, --race-include PKG, --race-exclude PKG taken out of the
    options before the script (the rest left to _parse)."""
    opts = _RaceOpts()
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            rest.extend(argv[i:])
            break
        name, eq, value = arg.partition("=")
        if arg == "--race":
            opts.on = True
        elif name in ("--race-include", "--race-exclude"):
            if not eq:
                if i + 1 >= len(argv):
                    raise _UsageError(f"{name} needs a package name")
                value = argv[i + 1]
                i += 1
            if not value.replace(".", "").replace("_", "").isalnum():
                raise _UsageError(f"{name}: not a package name: {value!r}")
            (opts.include if name == "--race-include" else opts.exclude).append(value)
            opts.on = True
        else:
            rest.append(arg)
            if name == "--procs" and not eq and i + 1 < len(argv):
                rest.append(argv[i + 1])
                i += 1
        i += 1
    return opts, rest


# -- the tracer's options (its code: goroutines/trace.py) ---------------------


class _TraceOpts:
    def __init__(self) -> None:
        self.path: str | None = None
        self.chan = False
        self.ring_mb: float | None = None


def _trace_opts(argv: list[str]) -> tuple[_TraceOpts, list[str]]:
    """--trace FILE, --trace-chan, --trace-ring MB taken out of the
    arguments before the script; the rest, in order."""
    opts = _TraceOpts()
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-") or arg in ("-", "--"):
            rest.extend(argv[i:])
            break
        name, eq, value = arg.partition("=")
        if arg == "--trace-chan":
            opts.chan = True
        elif name in ("--trace", "--trace-ring"):
            if not eq:
                if i + 1 >= len(argv):
                    raise _UsageError(f"{name} needs a value")
                value = argv[i + 1]
                i += 1
            if name == "--trace":
                opts.path = value
            else:
                try:
                    opts.ring_mb = float(value)
                except ValueError:
                    raise _UsageError(f"--trace-ring: not a number: {value!r}") from None
                if not opts.ring_mb > 0:
                    raise _UsageError(f"--trace-ring: must be > 0, got {value}")
        else:
            rest.append(arg)
            if name in ("--procs", "--race-include", "--race-exclude") and not eq:
                if i + 1 < len(argv):
                    rest.append(argv[i + 1])
                    i += 1
        i += 1
    if opts.path is None and (opts.chan or opts.ring_mb is not None):
        raise _UsageError("--trace-chan and --trace-ring need --trace FILE")
    return opts, rest


def _trace_html(argv: list[str]) -> int:
    """``python -m goroutines trace FILE.json [-o FILE.html]``."""
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 2
    src, out = argv[0], None
    rest = argv[1:]
    if rest[:1] in (["-o"], ["--output"]) and len(rest) == 2:
        out = rest[1]
    elif rest:
        sys.stderr.write(f"goroutines trace: unexpected arguments {rest!r}\n\n{USAGE}")
        return 2
    if out is None:
        out = os.path.splitext(src)[0] + ".html"
    from . import _tracehtml

    try:
        _tracehtml.write_html(src, out)
    except (OSError, ValueError) as e:
        sys.stderr.write(f"goroutines trace: {e}\n")
        return 1
    sys.stdout.write(f"wrote {out}\n")
    return 0


def _run_script(
    script: str,
    args: list[str],
    checks: frozenset[str] = frozenset(),
    race: _RaceOpts | None = None,
    tracing: _TraceOpts | None = None,
) -> int:
    if tracing is not None and tracing.path is not None:
        from . import trace

        trace.start(tracing.path, chan=tracing.chan, ring_mb=tracing.ring_mb)
        try:
            return _run_script(script, args, checks, race)
        finally:
            trace.stop()
    path = os.path.abspath(script)
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(path)
    dumped: list[str] = []
    found: list[str] = []  # the detectors' reports
    run_path: Callable[..., object] = runpy.run_path
    go_run = _go.run
    if race is not None and race.on:
        from . import _race

        _race.enable(os.path.dirname(path), race.include, race.exclude)
        _race._in_command[0] = True
        run_path = _race.run_path

    def main() -> None:
        try:
            run_path(path, run_name="__main__")
            if "leaks" in checks:
                found.extend(_detect.leak_report())
        except (GoroutinePanic, Deadlock, SystemExit, KeyboardInterrupt):
            if not dumped:
                dumped.append(_go.dump())
            raise
        except BaseException:
            # Take the dump while the other goroutines are still alive.
            dumped.append(_go.dump())
            raise

    try:
        go_run(main)
    except Deadlock as e:
        sys.stderr.write(f"fatal error: {_clean_dump(str(e))}")
        sys.stderr.flush()
        return 2
    except GoroutinePanic as e:
        cause = e.__cause__ or e
        dump = dumped[0] if dumped else _go.dump()
        g = e.goroutine
        head = f"panic: goroutine {g.id} [{g.name}]: " if g is not None else "panic: "
        _report(head, cause, _runtime_tb(cause.__traceback__), dump)
        return 2
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as e:
        dump = dumped[0] if dumped else _go.dump()
        if isinstance(e, RuntimeError) and str(e).startswith("run() called from inside"):
            sys.stderr.write(
                "goroutines: the script called goroutines.run(), but "
                "`python -m goroutines run` already runs it as the main goroutine: "
                "call the main function directly\n"
            )
        _report("panic: ", e, _script_tb(e.__traceback__, path), dump)
        return 2
    return _detect.finish(checks, found)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (SystemExit from the script passes)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        if args:
            sys.stdout.write(USAGE)
            return 0
        sys.stderr.write(USAGE)
        return 2
    if args[0] == "vet":
        from . import _vet

        return _vet.main(args[1:])
    if args[0] == "trace":
        return _trace_html(args[1:])
    if args[0] != "run":
        sys.stderr.write(f"goroutines: unknown command {args[0]!r}\n\n{USAGE}")
        return 2
    if len(args) > 1 and args[1] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    try:
        tracing, rest = _trace_opts(args[1:])
        race, rest = _race_opts(rest)
        checks: set[str] = set()
        procs, script, script_args = _parse(rest, checks)
    except _UsageError as e:
        sys.stderr.write(f"goroutines run: {e}\n\n{USAGE}")
        return 2
    if not os.path.isfile(script):
        sys.stderr.write(f"goroutines run: can't open file {script!r}: no such file\n")
        return 2
    if race.on:
        env = _race_pure_env()
        if env is not None:  # the detector runs on the pure path: start again on it
            sys.stdout.flush()
            sys.stderr.flush()
            os.execve(sys.executable, [sys.executable, "-m", "goroutines", *args], env)
    if procs is not None:
        _go.max_procs(procs)
    if race.on:
        # Before the detector is enabled: the lock-order check's own lock is
        # then a plain one, no happens-before edge between the goroutines it
        # records (which would hide their races).
        checks.add("lockorder")
    _detect.start(checks)
    status = _run_script(
        script, script_args, frozenset(checks), race if race.on else None, tracing
    )
    if race.on:
        from . import _race

        if _race.summary() and status in (0, _detect.FOUND_STATUS):
            return _race.EXIT_STATUS
    return status


def _race_pure_env() -> dict[str, str] | None:
    from . import _race

    return _race.pure_env()


if __name__ == "__main__":
    sys.exit(main())
