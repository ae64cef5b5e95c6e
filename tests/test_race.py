"""The race detector: ``python -m goroutines run --race``.

Subprocess runs of the corpus (tests/race_corpus: racy programs shaped after
real Go bugs, each with its fixed twin; every racy one must be reported,
no fixed one), of the examples, and unit tests of the rewrite and of the
report's format. The full corpus and all examples are ``slow``; a
representative subset runs in the normal suite.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "race_corpus"
EXAMPLES = ROOT / "examples"
RACY = sorted(CORPUS.glob("racy_*.py"))
FIXED = sorted(CORPUS.glob("fixed_*.py"))
TIMEOUT = 120.0

# The detector always runs the pure path (`run --race` restarts the
# interpreter with GOROUTINES_PURE=1): the suite's accelerated run of this
# interpreter runs the same subprocesses, so its pure-path run skips them.
pytestmark = pytest.mark.skipif(
    os.environ.get("GOROUTINES_PURE") == "1",
    reason="run --race always runs the pure path: the accelerated run covers it",
)

# Deliberately racy examples (their wrong way is the lesson).
RACY_EXAMPLES = {"pitfall_unsynchronized_counter.py", "pitfall_loop_variable.py"}
# Deliberately inverted lock order, which --race reports too (exit status 3).
LOCK_ORDER_EXAMPLES = {"pitfall_lock_order.py"}
# Examples that do not end by themselves, or on purpose end in an error.
SKIP_EXAMPLES = {"pitfall_deadlock.py", "pitfall_main_exits_early.py"}
# Measures the runtime's own costs, and asserts that one gosched() lets
# 100,000 goroutines finish: a timing the detector's slowdown breaks.
SKIP_EXAMPLES |= {"goroutine_cost.py"}

SUBSET = ["01_counter", "04_loop_variable", "06_wg_add_inside", "07_lock_one_side", "13_same_slot",
          "19_deque_queue", "22_semaphore_too_wide"]  # fmt: skip
EXAMPLE_SUBSET = ["pitfall_unsynchronized_counter.py", "waitgroups.py", "mutexes.py",
                  "worker_pools.py", "closing_channels.py", "stateful_goroutines.py",
                  "pitfall_lock_order.py"]  # fmt: skip


def race_run(
    script: Path, *opts: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    e = dict(os.environ)
    e.pop("GORACE", None)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "goroutines", "run", "--race", *opts, str(script)],
        capture_output=True, text=True, timeout=TIMEOUT, env=e, cwd=str(ROOT),
    )  # fmt: skip


def _runs(paths: list[Path]) -> dict[Path, subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(paths, pool.map(race_run, paths), strict=True))


def _check_racy(p: Path, r: subprocess.CompletedProcess[str]) -> None:
    assert r.returncode == 66, f"{p.name}: exit {r.returncode}\n{r.stderr}"
    assert "WARNING: DATA RACE" in r.stderr, f"{p.name}: no report\n{r.stderr}"
    assert "Found " in r.stderr and "data race(s)" in r.stderr


def _check_fixed(p: Path, r: subprocess.CompletedProcess[str]) -> None:
    assert "DATA RACE" not in r.stderr, f"{p.name}: false report\n{r.stderr}"
    assert r.returncode == 0, f"{p.name}: exit {r.returncode}\n{r.stderr}"


def test_corpus_is_complete() -> None:
    assert len(RACY) >= 25
    assert sorted(p.name[len("racy_") :] for p in RACY) == sorted(
        p.name[len("fixed_") :] for p in FIXED
    )


@pytest.mark.timeout(600)
def test_corpus_subset() -> None:
    paths = [CORPUS / f"{kind}_{name}.py" for name in SUBSET for kind in ("racy", "fixed")]
    for p, r in _runs(paths).items():
        (_check_racy if p.name.startswith("racy_") else _check_fixed)(p, r)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_corpus_all() -> None:
    results = _runs(RACY + FIXED)
    missed = [p.name for p in RACY if "WARNING: DATA RACE" not in results[p].stderr]
    false = [p.name for p in FIXED if "DATA RACE" in results[p].stderr]
    assert not missed and not false, f"missed: {missed}; false reports: {false}"
    for p, r in results.items():
        (_check_racy if p.name.startswith("racy_") else _check_fixed)(p, r)


def _examples(names: list[str] | None) -> list[Path]:
    all_ = sorted(p for p in EXAMPLES.glob("*.py") if p.name not in SKIP_EXAMPLES)
    return [p for p in all_ if names is None or p.name in names]


def _check_example(p: Path, r: subprocess.CompletedProcess[str]) -> None:
    if p.name in RACY_EXAMPLES:
        _check_racy(p, r)
    elif p.name in LOCK_ORDER_EXAMPLES:
        assert "DATA RACE" not in r.stderr, f"{p.name}: false report\n{r.stderr}"
        assert "POTENTIAL DEADLOCK: lock order inversion" in r.stderr, r.stderr
        assert r.returncode == 3, f"{p.name}: exit {r.returncode}\n{r.stderr}"
    else:
        _check_fixed(p, r)


@pytest.mark.timeout(600)
def test_examples_subset() -> None:
    for p, r in _runs(_examples(EXAMPLE_SUBSET)).items():
        _check_example(p, r)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_examples_all() -> None:
    for p, r in _runs(_examples(None)).items():
        _check_example(p, r)


@pytest.mark.timeout(120)
def test_report_format() -> None:
    r = race_run(CORPUS / "racy_01_counter.py")
    err = r.stderr
    assert err.startswith("==================\nWARNING: DATA RACE\n")
    assert "Write at global 'counter' of module __main__ by goroutine " in err
    assert "Previous read at global 'counter'" in err or "Previous write at global 'counter'" in err
    assert "racy_01_counter.py:" in err
    assert "created at:" in err
    # Each pair of source locations once.
    blocks = err.split("==================\n==================")
    heads = [tuple(line for line in b.splitlines() if line.startswith("      ")) for b in blocks]
    assert len(set(heads)) == len(heads)
    assert err.rstrip().endswith("data race(s)")


@pytest.mark.timeout(120)
def test_halt_on_error() -> None:
    r = race_run(CORPUS / "racy_01_counter.py", env={"GORACE": "halt_on_error=1"})
    assert r.returncode == 66
    assert r.stderr.count("WARNING: DATA RACE") == 1
    assert r.stdout == ""  # stopped before the program printed


@pytest.mark.timeout(120)
def test_sibling_module_and_exclude(tmp_path: Path) -> None:
    (tmp_path / "shared.py").write_text(
        "class Box:\n    n = 0\n\n\ndef bump() -> None:\n    Box.n += 1\n"
    )
    script = tmp_path / "main.py"
    script.write_text(
        "from goroutines import WaitGroup\nimport shared\n\nwg = WaitGroup()\n"
        "for _ in range(2):\n    wg.go(shared.bump)\nwg.wait()\n"
    )
    r = race_run(script)
    assert r.returncode == 66, r.stderr
    assert "shared.py:6" in r.stderr
    r = race_run(script, "--race-exclude", "shared")
    assert r.returncode == 0 and "DATA RACE" not in r.stderr, r.stderr
    # No bytecode cache of the instrumented module is left behind.
    for pyc in (
        (tmp_path / "__pycache__").glob("*.pyc") if (tmp_path / "__pycache__").exists() else []
    ):
        assert b"__race__" not in pyc.read_bytes()


@pytest.mark.timeout(60)
def test_usage_errors(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("")
    r = subprocess.run(
        [sys.executable, "-m", "goroutines", "run", "--race-include"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2 and "--race-include needs a package name" in r.stderr


def _rewritten(src: str) -> str:
    from goroutines._race import instrument

    return ast.unparse(instrument.rewrite(ast.parse(src)))


def test_rewrite_accesses() -> None:
    out = _rewritten(
        "def f(o, d, xs):\n    o.a = o.b\n    d[1] += 2\n    xs.append(3)\n    return len(xs), 1 in d\n"
    )
    assert "__race__.wa(o, 'a').a = __race__.ga(o, 'b')" in out
    assert "__race__.wi(d)[1] += 2" in out
    assert "__race__.mc(xs, 'append')(3)" in out
    assert "len(__race__.rc(xs))" in out and "1 in __race__.rc(d)" in out


def test_rewrite_globals_and_cells() -> None:
    out = _rewritten(
        "n = 0\n\ndef inc():\n    global n\n    n += 1\n\n"
        "def main(go):\n    for i in range(3):\n        go(lambda: print(i))\n"
    )
    assert "__race__.wv(__race_m__, 'n')" in out
    assert "__race_s" in out and "__race__.scope('main')" in out
    assert "__race__.rv(__race_s" in out and ", 'i', i)" in out
    # A name that is never rebound is not instrumented.
    assert "rv(__race_m__, 'print'" not in out


def test_detector_epochs(monkeypatch: pytest.MonkeyPatch) -> None:
    """FastTrack's rules on two threads of execution, without the runtime."""
    from goroutines._race import detector as d

    me: list[d.Thread] = []
    monkeypatch.setattr(d, "current", lambda: me[-1])

    class Obj:
        pass

    o = Obj()
    a = d.Thread(1001, {}, "goroutine 1001", 0)
    b = d.Thread(1002, {}, "goroutine 1002", 0)
    before = d.found[0]
    me.append(a)
    d.write(o, "x")
    sc = d.SyncClock()
    d.release(sc)
    me.append(b)
    d.acquire(sc)
    d.read(o, "x")  # ordered by the release/acquire: no race
    d.write(o, "x")
    assert d.found[0] == before
    me.append(a)
    d.read(o, "x")  # a never acquired b's write
    assert d.found[0] == before + 1


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("fold", ["default", "small"])
def test_shared_base_clocks_join_as_plain_vector_clocks(
    seed: int, fold: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The detector's two-level clocks (a shared base, an owned extra, folds,
    adoption, merged bases skipped) give the entrywise max a plain dict gives,
    over random releases and acquires among many threads and clocks (with
    the fold thresholds small, every path runs at these sizes)."""
    import random

    from goroutines._race import detector as d

    if fold == "small":
        monkeypatch.setattr(d, "_FOLD_MIN", 6)
        monkeypatch.setattr(d, "_ADOPT_FOLD", 3)
    rng = random.Random(seed)
    n_threads, n_clocks = rng.choice([(3, 2), (40, 5), (200, 8)])
    threads = [d.Thread(i, {}, f"goroutine {i}", i) for i in range(n_threads)]
    clocks = [d.SyncClock() for _ in range(n_clocks)]
    ref_t = [{i: t.c} for i, t in enumerate(threads)]
    ref_c: list[dict[int, int]] = [{} for _ in range(n_clocks)]

    def join(dst: dict[int, int], src: dict[int, int]) -> None:
        for k, v in src.items():
            if dst.get(k, 0) < v:
                dst[k] = v

    for _ in range(3000):
        i, j = rng.randrange(n_threads), rng.randrange(n_clocks)
        t = threads[i]
        if rng.random() < 0.5:  # release, as detector.release does
            d._join(clocks[j], t)
            join(ref_c[j], ref_t[i])
            t.c += 1
            t.extra[t.tid] = t.c
            ref_t[i][i] = t.c
        else:
            d._join(t, clocks[j])
            join(ref_t[i], ref_c[j])
        for k in range(n_threads):
            assert t.at(k) == ref_t[i].get(k, 0)
            assert clocks[j].at(k) == ref_c[j].get(k, 0)
