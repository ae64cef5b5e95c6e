"""The pytest plugin: @pytest.mark.goroutines runs a test as goroutine 1 and
fails it on a deadlock, a panic, leaked goroutines or its timeout, with the
goroutine dump; loading the plugin does not import goroutines."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]


def make(pytester: pytest.Pytester, src: str, ini: str = "") -> None:
    pytester.makepyfile(test_it=textwrap.dedent(src))
    if ini:
        pytester.makeini("[pytest]\n" + textwrap.dedent(ini))


def test_marked_test_runs_as_goroutine_1_with_its_fixtures(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest
        import goroutines
        from goroutines import Chan, go

        @pytest.fixture
        def n():
            return 3

        @pytest.mark.goroutines
        def test_it(n):
            g = goroutines.current()
            assert g.id == 1
            ch = Chan[int]()
            for i in range(n):
                go(ch.send, i)
            assert sorted(ch.recv() for _ in range(n)) == [0, 1, 2]
    """)
    r = pytester.runpytest("--strict-markers")
    r.assert_outcomes(passed=1)


def test_deadlock_fails_the_test_with_the_dump(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest
        from goroutines import Chan, go

        def stuck(ch):
            ch.recv()

        @pytest.mark.goroutines
        def test_it():
            ch, other = Chan(), Chan()
            go(stuck, other)
            ch.recv()
    """)
    r = pytester.runpytest()
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines([
        "*Deadlock: all goroutines are asleep - deadlock!*",
        "*goroutine 1 [[]chan receive[]]:*",
        "*test_it.stuck(...)*",
    ])


def test_panic_fails_the_test_with_the_dump_in_the_report(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest
        from goroutines import Chan, go

        def waiter(ch):
            ch.recv()

        def boom():
            raise ValueError("bad value")

        @pytest.mark.goroutines
        def test_it():
            ch = Chan()
            go(waiter, ch)
            go(boom)
            ch.recv()
    """)
    r = pytester.runpytest()
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines([
        "*ValueError: bad value*",
        "*GoroutinePanic: goroutine * [[]boom[]] panicked: ValueError: bad value*",
        "*Captured goroutines call*",
        "goroutine 1 *",
        "*test_it.waiter(...)*",
    ])


def test_leaked_goroutine_fails_the_test_with_its_stack(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest
        from goroutines import Chan, go

        def forgotten(ch):
            ch.recv()

        @pytest.mark.goroutines
        def test_it():
            go(forgotten, Chan())
    """)
    r = pytester.runpytest()
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines([
        "*AssertionError: found 1 unexpected goroutine (still alive after 1 s):*",
        "*goroutine 2 [[]chan receive[]]:*",
        "*test_it.forgotten(...)*",
        "*created by test_it.test_it in goroutine 1*",
    ])


def test_goroutines_still_finishing_are_not_leaks(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest
        from goroutines import go, sleep

        @pytest.mark.goroutines
        def test_it():
            for _ in range(10):
                go(sleep, 0.05)  # returns 50 ms after the test does
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_leak_check_opt_outs(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest
        from goroutines import Chan, go

        def forgotten(ch):
            ch.recv()

        def starter():
            go(forgotten, Chan())

        @pytest.mark.goroutines(leaks=False)
        def test_marker():
            go(forgotten, Chan())

        @pytest.mark.goroutines(ignore_top_function="test_it.forgotten")
        def test_top_function():
            go(forgotten, Chan())

        @pytest.mark.goroutines(ignore_created_by=[starter])
        def test_created_by():
            starter()

        @pytest.mark.goroutines(ignore_created_by="test_it.starter")
        def test_created_by_other_site():
            go(forgotten, Chan())  # created here, not by starter: a leak
    """)
    r = pytester.runpytest()
    r.assert_outcomes(passed=3, failed=1)
    r.stdout.fnmatch_lines(["*FAILED test_it.py::test_created_by_other_site*"])


def test_ini_options_run_every_test_and_turn_the_leak_check_off(
    pytester: pytest.Pytester,
) -> None:
    make(pytester, """
        import goroutines
        from goroutines import Chan, go

        def test_unmarked():
            assert goroutines.current().id == 1
            go(Chan().recv)  # left alive: allowed by the ini option

        async def test_async_is_left_alone():
            pass
    """, ini="""
        goroutines = true
        goroutines_leaks = false
    """)
    r = pytester.runpytest("-p", "no:asyncio")
    # The async test is not run as a goroutine: pytest handles it as it
    # would without this plugin (with no async plugin, pytest 9 fails it).
    outcomes = r.parseoutcomes()
    assert outcomes.get("passed") == 1, r.stdout.str()
    assert "test_unmarked" not in "".join(r.stdout.lines).split("short test summary")[-1]
    assert "runs plain test functions as goroutine 1" not in r.stdout.str()


def test_marked_async_test_is_an_error(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest

        @pytest.mark.goroutines
        async def test_it():
            pass
    """)
    r = pytester.runpytest("-p", "no:asyncio")
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["*runs plain test functions as goroutine 1; this one is async def*"])


def test_marker_arguments_are_checked(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest

        @pytest.mark.goroutines(True)
        def test_positional():
            pass

        @pytest.mark.goroutines(leak=False)
        def test_misspelt():
            pass
    """)
    r = pytester.runpytest()
    assert r.ret != 0
    r.stdout.fnmatch_lines(["*keyword arguments only*"])


def test_timeout_prints_the_dump_and_fails(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest
        from goroutines import Chan, go, sleep

        def ticking(stop):
            while not stop.closed:  # keeps the program from deadlocking
                sleep(0.01)

        @pytest.mark.goroutines(timeout=0.3, leaks=False)
        def test_it():
            stop = Chan()
            go(ticking, stop)
            Chan().recv()  # waits forever (but ticking is alive: no deadlock)
    """)
    r = pytester.runpytest("-p", "no:timeout")
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines([
        "*Timeout: test_it.py::test_it ran for more than 0.3 s*",
        "*Captured goroutines at the timeout call*",
        "goroutine 1 [[]chan receive[]]:",
        "*test_it.ticking(...)*",
    ])
    # Written to stderr when it fires (captured: the report shows it).
    r.stdout.fnmatch_lines(["*Captured stderr call*",
                            "*goroutines: test_it.py::test_it timed out after 0.3 s*"])


def test_timeout_fires_before_pytest_timeouts_own(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest
        from goroutines import Chan, go, sleep

        def ticking():
            while True:
                sleep(0.01)

        @pytest.mark.timeout(2)
        @pytest.mark.goroutines(leaks=False)
        def test_it():
            go(ticking)
            Chan().recv()
    """)
    r = pytester.runpytest()
    r.assert_outcomes(failed=1)
    # Ours: 2 s less a tenth; pytest-timeout's ("Timeout (>2.0s)") never fired.
    r.stdout.fnmatch_lines(["*ran for more than 1.8 s*", "*test_it.ticking(...)*"])
    assert "Timeout (>2.0s)" not in r.stdout.str() + r.stderr.str()


def test_a_test_that_never_gives_its_thread_back_ends_the_process(
    pytester: pytest.Pytester,
) -> None:
    # Without pytest-timeout nothing else would stop it: 5 s after its
    # timeout the plugin prints every thread's stack and exits (where the
    # runtime can preempt the loop, the test fails in the ordinary way).
    make(pytester, """
        import pytest

        @pytest.mark.goroutines(timeout=0.3)
        def test_it():
            while True:
                pass
    """)
    r = pytester.runpytest_subprocess("-p", "no:timeout", timeout=60)
    assert r.ret != 0
    out = r.stdout.str() + r.stderr.str()
    assert "test_it.py::test_it timed out after 0.3 s; its goroutines:" in out, out
    assert "goroutine 1 [running]:" in out, out
    assert ("did not stop 5 s after its timeout" in out
            or "ran for more than 0.3 s" in out), out


def test_loading_the_plugin_does_not_import_goroutines(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import sys
        import pytest

        def test_1_plain():
            assert "goroutines" not in sys.modules
            assert not [m for m in sys.modules if m.startswith("goroutines.")]

        @pytest.mark.goroutines
        def test_2_marked():
            assert "goroutines" in sys.modules
    """)
    r = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    r.assert_outcomes(passed=2)
    r = pytester.runpytest_subprocess("--trace-config")
    r.stdout.fnmatch_lines(["*pytest_goroutines*"])
    # Its name is "goroutines": -p no:goroutines turns it off (the marker
    # is then unknown).
    r = pytester.runpytest_subprocess("-p", "no:goroutines", "--strict-markers")
    r.stdout.fnmatch_lines(["*'goroutines' not found in `markers`*"])


# ---------------------------------------------------------------------------
# The synctest fixture


def test_synctest_fixture_runs_the_body_in_a_bubble(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest
        import goroutines
        from goroutines import Chan, go, now, sleep

        EPOCH = 946684800.0

        def test_plain(synctest):
            assert now() == EPOCH
            c = Chan()
            go(lambda: (sleep(60), c.send(now())))
            assert c.recv() == EPOCH + 60
            synctest.wait()

        @pytest.mark.goroutines
        def test_marked_too(synctest):
            assert goroutines.current().id != 1  # the bubble's root, not goroutine 1
            sleep(3600)
            assert now() == EPOCH + 3600

        def test_without_fixture():
            assert now() < EPOCH
    """)
    r = pytester.runpytest("--strict-markers")
    r.assert_outcomes(passed=3)


def test_synctest_fixture_deadlock_fails_with_gos_message(pytester: pytest.Pytester) -> None:
    make(pytester, """
        from goroutines import Chan, go

        def stuck(c):
            c.recv()

        def test_it(synctest):
            go(stuck, Chan())
    """)
    r = pytester.runpytest()
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines([
        "*Deadlock: deadlock: main bubble goroutine has exited but blocked goroutines remain*",
        "*test_it.stuck(...)*",
    ])


def test_synctest_fixture_refuses_async_tests(pytester: pytest.Pytester) -> None:
    make(pytester, """
        async def test_it(synctest):
            pass
    """)
    r = pytester.runpytest()
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["*the synctest fixture runs a plain test function in a bubble*"])


# ---------------------------------------------------------------------------
# --goroutines-race

RACY = """
    import pytest
    from goroutines import WaitGroup

    counter = 0

    def bump():
        global counter
        for _ in range(50):
            counter += 1

    def test_1_racy():
        wg = WaitGroup()
        for _ in range(4):
            wg.go(bump)
        wg.wait()
        assert counter > 0

    def test_2_clean():
        assert 2 + 2 == 4
"""


def test_race_option_fails_the_racy_test_only(pytester: pytest.Pytester) -> None:
    make(pytester, RACY)
    r = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--goroutines-race", timeout=120)
    r.assert_outcomes(passed=1, failed=1)
    r.stdout.fnmatch_lines([
        "*test_it.py::test_1_racy: race detected during execution of test*",
        "*WARNING: DATA RACE*",
        "*test_it.py:*",
        "*FAILED test_it.py::test_1_racy*",
    ])


def test_without_race_option_nothing_is_instrumented(pytester: pytest.Pytester) -> None:
    make(pytester, RACY)
    r = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    r.assert_outcomes(passed=2)
    assert "DATA RACE" not in r.stdout.str() + r.stderr.str()


def test_race_option_keeps_assertion_rewriting_and_the_pure_path(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest("""
        import goroutines  # imported before the tests: the pure path was chosen already
    """)
    make(pytester, """
        from goroutines._runtime import accel

        def test_pure():
            assert not accel.active_ports()

        def test_rewritten():
            x = [1, 2]
            assert x == [1, 3]
    """)
    r = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--goroutines-race", timeout=120)
    r.assert_outcomes(passed=1, failed=1)
    r.stdout.fnmatch_lines(["*assert [[]1, 2[]] == [[]1, 3[]]*"])


def test_race_outside_a_test_call_sets_exit_status_66(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import pytest
        from goroutines import WaitGroup

        counter = 0

        def bump():
            global counter
            for _ in range(50):
                counter += 1

        @pytest.fixture
        def racy_setup():
            wg = WaitGroup()
            for _ in range(4):
                wg.go(bump)
            wg.wait()

        def test_it(racy_setup):
            pass
    """)
    r = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--goroutines-race", timeout=120)
    r.assert_outcomes(passed=1)
    assert r.ret == 66, r.stdout.str()
