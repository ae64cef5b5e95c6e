"""The pytest plugin of ``goroutines`` (entry point ``pytest11``, name ``goroutines``).

A test marked ``@pytest.mark.goroutines``, or every test function when the
ini option ``goroutines = true`` is set, runs as goroutine 1 under
``goroutines.run()``, and fails:

  * on a ``Deadlock`` (its message is the goroutine dump) or a
    ``GoroutinePanic`` (the dump taken when it reached goroutine 1 is added
    to the report, as the section "Captured goroutines call");
  * when goroutines it started are still alive after it returns
    (``goroutines.testing.verify_none``, with its brief retries); opt out
    with ``@pytest.mark.goroutines(leaks=False)`` or ``goroutines_leaks =
    false``, or ignore some with the marker's ``ignore_top_function`` and
    ``ignore_created_by`` (verify_none's arguments);
  * when it runs past its timeout: the dump goes to stderr and into the
    report before it fails. The timeout is the marker's ``timeout=``, else
    pytest-timeout's for the test (this fires just before pytest-timeout's
    own timer, which stays in place as the backstop for a goroutine that
    never gives the thread back), else the ini option ``goroutines_timeout``.

A test that takes the ``synctest`` fixture runs its body in a synctest bubble
(``goroutines.synctest.test``: a fake clock that jumps when every goroutine of
the bubble is blocked; Go's ``synctest.Test(t, f)`` for the whole test); the
fixture's value is the ``goroutines.synctest`` module, for ``wait()``. With
the marker too, the bubble's driver is goroutine 1 of the test's ``run()``.

``--goroutines-race`` runs the session under the race detector, as
``python -m goroutines run --race`` runs a script: the pure path
(``GOROUTINES_PURE=1``, set before the conftest files are imported; an error
if ``goroutines`` was imported with the accelerator before), the
synchronization hooks, and the modules under the rootdir instrumented as they
are imported, test modules included (after pytest's assertion rewrite),
``goroutines`` itself and site-packages not. A test during whose call a race is
reported fails ("race detected during execution of test", as Go's testing
says), its ``WARNING: DATA RACE`` block in its captured stderr; a race outside
any test's call (a fixture, a thread running on) makes the session's exit
status 66 (Go's) when nothing else failed. ``--goroutines-race-include PKG``
and ``--goroutines-race-exclude PKG`` (repeatable) are ``run --race``'s
``--race-include`` and ``--race-exclude``.

The module imports nothing of ``goroutines`` until a marked test runs:
importing ``goroutines`` installs signal handlers and records the threads
of the process, which a test session that never uses it must not get. So
the plugin lives outside the package (importing ``goroutines.anything``
runs ``goroutines/__init__.py``) and imports the package inside the hooks.

Fixtures run outside ``run()``, on the main thread (which the implicit model
makes goroutine 1 at its first use of the runtime); only the test function
is the main goroutine of a ``run()``. ``async def`` tests are not run this
way (``go()`` refuses them too): marking one is an error.
"""

from __future__ import annotations

import faulthandler
import functools
import inspect
import os
import sys
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

__all__: list[str] = []  # a plugin: pytest finds its hooks by name

MARKER = "goroutines"

# Seconds before pytest-timeout's deadline at which the dump is taken and
# the test is failed (at most a tenth of the timeout).
_MARGIN = 1.0
# Without pytest-timeout: how long a test that was told of its timeout may
# take to stop before the process exits (pytest-timeout's thread method).
_GRACE = 5.0
# How long this timeout's panic may take to reach goroutine 1 (through the
# background P) before pytest-timeout's own timer, if it uses SIGALRM, fires.
_REACH = 2.0


def _postpone_alarm(seconds: float) -> None:
    """Give this timeout's panic time to reach the test: push a pending
    SIGALRM timer (pytest-timeout's signal method) to at least seconds from
    now. It stays the backstop. (setitimer is process-wide and may be called
    from any thread.)"""
    import signal

    getitimer = getattr(signal, "getitimer", None)
    if getitimer is None:  # pragma: no cover - not POSIX
        return
    left, interval = getitimer(signal.ITIMER_REAL)
    if 0 < left < seconds:
        signal.setitimer(signal.ITIMER_REAL, seconds, interval)

_timeout_key = pytest.StashKey[tuple[float, float]]()  # (seconds, start) from pytest-timeout

SYNCTEST_FIXTURE = "synctest"
RACE_EXIT_STATUS = 66  # Go's exit status for a program in which races were found
_race_on = [False]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("goroutines")
    group.addoption(
        "--goroutines-race", action="store_true", dest="goroutines_race", default=False,
        help="run the tests under goroutines' race detector (the pure path; the modules "
        "under the rootdir instrumented); a test during which a race is reported fails",
    )
    group.addoption(
        "--goroutines-race-include", action="append", dest="goroutines_race_include",
        default=[], metavar="PKG", help="also instrument package PKG for the race detector",
    )
    group.addoption(
        "--goroutines-race-exclude", action="append", dest="goroutines_race_exclude",
        default=[], metavar="PKG", help="do not instrument package PKG for the race detector",
    )
    parser.addini(
        "goroutines", type="bool", default=False,
        help="run every test function as goroutine 1 under goroutines.run(), "
        "as @pytest.mark.goroutines does",
    )
    parser.addini(
        "goroutines_leaks", type="bool", default=True,
        help="fail a goroutines test that leaves goroutines alive (default: true)",
    )
    parser.addini(
        "goroutines_timeout", default="0",
        help="timeout in seconds of a goroutines test when neither its marker nor "
        "pytest-timeout sets one (0: none); the goroutine dump is printed before it fails",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """--goroutines-race: the race detector works on the pure path, chosen
    when goroutines is imported; conftest files may import it."""
    if getattr(early_config.known_args_namespace, "goroutines_race", False):
        if "goroutines" not in sys.modules:
            os.environ["GOROUTINES_PURE"] = "1"


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("goroutines_race", False):
        _enable_race(config)
    config.addinivalue_line(
        "markers",
        "goroutines(leaks=True, ignore_top_function=(), ignore_created_by=(), "
        "timeout=None): run the test function as goroutine 1 under goroutines.run(); "
        "fail it on a deadlock, a panic, goroutines left alive, or its timeout "
        "(with the goroutine dump)",
    )


def _enable_race(config: pytest.Config) -> None:
    """Install the race detector before any test module is imported."""
    if "goroutines" in sys.modules:
        from goroutines._runtime import accel

        if accel.active_ports():
            raise pytest.UsageError(
                "--goroutines-race: goroutines was imported with its C accelerator before the "
                "plugin could choose the pure path the race detector needs; run with "
                "GOROUTINES_PURE=1"
            )
    from goroutines import _race

    _race.enable(
        str(config.rootpath),
        config.getoption("goroutines_race_include") or (),
        config.getoption("goroutines_race_exclude") or (),
    )
    # pytest's assertion rewrite loads the test modules (and conftest files)
    # with a loader of its own, which the detector's import hook leaves
    # alone: this finder, ahead of both, instruments what pytest rewrote.
    sys.meta_path.insert(0, _RaceAssertFinder(config))
    _race_on[0] = True


class _RaceAssertFinder:
    """Instrument, for the race detector, the modules pytest rewrites."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        from _pytest.assertion.rewrite import AssertionRewritingHook

        from goroutines._race import instrument

        for finder in sys.meta_path:
            if finder is self or isinstance(finder, instrument.Finder):
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(fullname, path, target)
            if spec is None:
                continue
            if isinstance(spec.loader, AssertionRewritingHook) and spec.origin:
                race = next(
                    (f for f in sys.meta_path if isinstance(f, instrument.Finder)), None
                )
                if race is not None and race.wants(fullname, spec.origin):
                    spec.loader = _RaceAssertLoader(self.config, spec.origin)
            return spec
        return None


class _RaceAssertLoader:
    """pytest's assertion rewrite, then the race detector's rewrite."""

    def __init__(self, config: pytest.Config, path: str) -> None:
        self.config = config
        self.path = path

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        import ast

        from _pytest.assertion.rewrite import rewrite_asserts

        from goroutines._race import instrument

        with open(self.path, "rb") as f:
            source = f.read()
        tree = ast.parse(source, filename=self.path)
        rewrite_asserts(tree, source, self.path, self.config)
        code = compile(instrument.rewrite(tree), self.path, "exec", dont_inherit=True)
        exec(code, module.__dict__)


def _races() -> int:
    from goroutines import _race

    return _race.found()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    if not _race_on[0]:
        return (yield)
    before = _races()
    result = yield
    if _races() > before:
        pytest.fail(
            f"{item.nodeid}: race detected during execution of test "
            "(the WARNING: DATA RACE report: the test's captured stderr)",
            pytrace=False,
        )
    return result


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _race_on[0]:
        return
    from goroutines import _race

    if _race.summary() and session.exitstatus == 0:
        session.exitstatus = RACE_EXIT_STATUS


@pytest.fixture
def synctest() -> Any:
    """The test body runs in a synctest bubble (``goroutines.synctest.test``);
    the value is the ``goroutines.synctest`` module (``wait()``)."""
    from goroutines import synctest as module

    return module


@dataclass
class _Settings:
    leaks: bool
    verify_kwargs: dict[str, Any]
    timeout: float  # 0: none
    start: float  # the time the timeout counts from
    backstop: bool  # pytest-timeout will stop it if we cannot


def _float(value: object, what: str) -> float:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            pass
    raise pytest.UsageError(f"{what}: not a number of seconds: {value!r}")


def _settings(item: pytest.Function) -> _Settings | None:
    """How to run the test, or None when it is not a goroutines test."""
    marker = item.get_closest_marker(MARKER)
    if marker is None and not item.config.getini("goroutines"):
        return None
    kwargs = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.goroutines takes keyword arguments only "
            f"(leaks=, ignore_top_function=, ignore_created_by=, timeout=), got {marker.args!r}"
        )
    leaks = bool(kwargs.pop("leaks", item.config.getini("goroutines_leaks")))
    verify: dict[str, Any] = {k: kwargs.pop(k) for k in ("ignore_top_function", "ignore_created_by")
              if k in kwargs}
    marker_timeout = kwargs.pop("timeout", None)
    if kwargs:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.goroutines: unknown argument(s) {sorted(kwargs)}"
        )
    now = time.monotonic()
    if marker_timeout is not None:
        return _Settings(leaks, verify, _float(marker_timeout, "goroutines timeout"), now,
                         False)
    outer = item.stash.get(_timeout_key, None)
    if outer is not None:
        seconds, start = outer
        return _Settings(leaks, verify, max(seconds - min(_MARGIN, seconds / 10), 0.0),
                         start, True)
    ini = _float(item.config.getini("goroutines_timeout"), "goroutines_timeout")
    return _Settings(leaks, verify, ini, now, False)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> None:
    """pytest-timeout arms its timer: note its timeout (its timer stays)."""
    seconds = getattr(settings, "timeout", None)
    if isinstance(seconds, int | float) and seconds > 0:
        item.stash[_timeout_key] = (float(seconds), time.monotonic())


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    settings = _settings(pyfuncitem)
    fn = pyfuncitem.obj
    bubble = SYNCTEST_FIXTURE in getattr(pyfuncitem, "fixturenames", ())
    if bubble:
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            pytest.fail(
                f"{pyfuncitem.nodeid}: the synctest fixture runs a plain test function in a "
                "bubble; this one is async def",
                pytrace=False,
            )
        inner = _in_bubble(fn)
    if settings is None:
        if not bubble:
            return (yield)
        pyfuncitem.obj = inner
        try:
            return (yield)
        finally:
            pyfuncitem.obj = fn
    if bubble:
        pyfuncitem.obj = _as_goroutine_1(pyfuncitem, inner, settings)
        try:
            return (yield)
        finally:
            pyfuncitem.obj = fn
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        if pyfuncitem.get_closest_marker(MARKER) is None:
            return (yield)  # the ini option: async tests are left to their plugin
        pytest.fail(
            f"{pyfuncitem.nodeid}: @pytest.mark.goroutines runs plain test functions as "
            "goroutine 1; this one is async def (await from asyncio, or make it a plain def)",
            pytrace=False,
        )
    pyfuncitem.obj = _as_goroutine_1(pyfuncitem, fn, settings)
    try:
        return (yield)
    finally:
        pyfuncitem.obj = fn


def _in_bubble(fn: Callable[..., object]) -> Callable[..., object]:
    """fn, to be run as the root of a synctest bubble."""

    @functools.wraps(fn)
    def test(**kwargs: Any) -> object:
        from goroutines import synctest

        return synctest.test(lambda: fn(**kwargs))

    return test


class _TestTimeout(Exception):
    """Raised in a goroutine of its own when a goroutines test times out: its
    panic reaches goroutine 1, the test, wherever it waits."""


@dataclass
class _Watchdog:
    """The timeout of one test: a plain thread, so that nothing of it exists
    in the runtime (a pending timer would hold off deadlock detection)."""

    item: pytest.Function
    settings: _Settings
    lock: threading.Lock = field(default_factory=threading.Lock)
    active: bool = True  # the test has not finished; guarded by lock
    fired: bool = False
    dump: str = ""
    stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread | None:
        if self.settings.timeout <= 0:
            return None
        t = threading.Thread(target=self._run, name=f"goroutines timeout {self.item.name}",
                             daemon=True)
        t.start()
        return t

    def _run(self) -> None:
        import goroutines

        left = self.settings.start + self.settings.timeout - time.monotonic()
        if self.stop.wait(max(left, 0.0)):
            return
        with self.lock:
            if not self.active:
                return
            self.fired = True
            self.dump = goroutines.dump()
            sys.stderr.write(
                f"\n+++ goroutines: {self.item.nodeid} timed out after "
                f"{self.settings.timeout:g} s; its goroutines:\n\n{self.dump}+++\n"
            )
            sys.stderr.flush()
            _postpone_alarm(_REACH)
            goroutines.go(self._panic)
        if self.settings.backstop or self.stop.wait(_GRACE):
            return
        # Nothing else will stop a test that does not give its thread back.
        # Its captured output would die with the process: stop capturing
        # first, as pytest-timeout does.
        capman = self.item.config.pluginmanager.getplugin("capturemanager")
        if capman is not None:
            capman.suspend_global_capture(in_=True)
            out, err = capman.read_global_capture()
            sys.stdout.write(out)
            sys.stderr.write(err)
        sys.stderr.write(
            f"\n+++ goroutines: {self.item.nodeid} did not stop {_GRACE:g} s after its "
            "timeout; every thread's stack, then exit\n"
        )
        sys.stderr.flush()
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        os._exit(1)

    def _panic(self) -> None:
        with self.lock:
            if not self.active:
                return  # the test finished meanwhile
        raise _TestTimeout(f"test timed out after {self.settings.timeout:g} s")

    def finish(self) -> None:
        with self.lock:
            self.active = False
        self.stop.set()


def _as_goroutine_1(
    item: pytest.Function, fn: Callable[..., object], settings: _Settings
) -> Callable[..., object]:
    """fn, to be run as goroutine 1 of its own run()."""

    @functools.wraps(fn)
    def test(**kwargs: Any) -> object:
        import goroutines
        from goroutines.testing import verify_none

        watchdog = _Watchdog(item, settings)
        state: dict[str, str] = {}

        def main() -> object:
            # Armed here, in goroutine 1: a panic sent before run() made
            # it would be held for the main thread's next use of the runtime.
            watchdog.start()
            try:
                result = fn(**kwargs)
                if settings.leaks:
                    verify_none(**settings.verify_kwargs)
                return result
            except goroutines.GoroutinePanic as e:
                # The others are still alive here: run() ends them on return.
                if not isinstance(e.__cause__, _TestTimeout):
                    state["dump"] = goroutines.dump()
                raise
            finally:
                watchdog.finish()

        try:
            return goroutines.run(main)
        except goroutines.GoroutinePanic as e:
            if isinstance(e.__cause__, _TestTimeout):
                item.add_report_section("call", "goroutines at the timeout", watchdog.dump)
                pytest.fail(
                    f"Timeout: {item.nodeid} ran for more than {settings.timeout:g} s "
                    "(the goroutines at that moment: stderr, and the section "
                    "'Captured goroutines at the timeout call')",
                    pytrace=False,
                )
            if "dump" in state:
                item.add_report_section("call", "goroutines", state["dump"])
            raise
        finally:
            watchdog.finish()

    return test
