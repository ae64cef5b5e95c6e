"""The HTML timeline in a real browser: headless Debian chromium loads the page
for a known program with no console error, shows the expected lanes, and a
screenshot is made. `make test-browser` installs chromium where it can;
elsewhere the test skips, saying why.

GOROUTINES_TIMELINE_PNG=docs/timeline.png keeps the screenshot there (how the
guide's picture is made)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROGRAM = """
    import time
    from goroutines import Chan, WaitGroup, go, sleep, blocking, select, recv, after

    def producer(out, n):
        for i in range(n):
            out.send(i)
            sleep(0.001)
        out.close()

    def consumer(inp, res, wg):
        for v in inp:
            res.send(v * v)
        wg.done()

    def closer(wg, results):
        wg.wait()
        results.close()

    jobs, results = Chan(), Chan(4)
    wg = WaitGroup()
    go(producer, jobs, 20)
    for _ in range(3):
        wg.add(1)
        go(consumer, jobs, results, wg)
    go(closer, wg, results)
    total = sum(results)
    blocking(time.sleep, 0.005)
    select(recv(after(0.002)), recv(Chan()))
    print(total)
"""

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-extensions",
    "--no-first-run",
    "--window-size=1280,720",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path is not None:
            return path
    pytest.skip("no chromium on this machine (make test-browser installs Debian's chromium)")


def _browser(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [_chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "HOME": str(tmp_path)},
    )


@pytest.mark.timeout(240)
def test_the_timeline_loads_in_chromium(tmp_path: Path) -> None:
    _chromium()
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(PROGRAM))
    trace = tmp_path / "out.json"
    page = tmp_path / "out.html"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "goroutines",
            "run",
            "--trace",
            str(trace),
            "--trace-chan",
            str(script),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "goroutines", "trace", str(trace), "-o", str(page)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    url = page.as_uri()

    # The DOM after the page's script ran: it ran to its end, with no error,
    # and made one lane per goroutine.
    dom = _browser(["--dump-dom", url], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    status = re.search(r'<div id="status"[^>]*>', dom.stdout)
    assert status is not None, dom.stdout[-2000:]
    assert 'data-ready="1"' in status.group(0)
    assert 'data-errors="0"' in status.group(0), status.group(0)
    lanes = re.findall(
        r'<div class="lane-label" data-goroutine="(\d+)"[^>]*>([^<]*)</div>', dom.stdout
    )
    labels = [name for _, name in lanes]
    assert len(lanes) == 6, labels  # main, producer, 3 consumers, closer
    assert labels[0].endswith("main")
    assert sum(name.endswith("consumer") for name in labels) == 3, labels
    assert any(name.endswith("producer") for name in labels)
    assert any(name.endswith("closer") for name in labels)
    assert 'id="summary-goroutines"' in dom.stdout and 'id="summary-channels"' in dom.stdout

    # A screenshot, with the console logged: no error or uncaught exception.
    shot = tmp_path / "timeline.png"
    r = _browser(["--enable-logging=stderr", "--v=0", f"--screenshot={shot}", url], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    # The page logs nothing: any console line (console.error, an uncaught
    # exception, a refused load) is a failure.
    console = [line for line in r.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    assert shot.exists() and shot.stat().st_size > 5000
    with open(shot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("GOROUTINES_TIMELINE_PNG")
    if keep:
        shutil.copyfile(shot, keep)
