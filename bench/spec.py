"""What the suite measures: the workloads, their sizes and targets, the runtimes.

Pure data with no third-party imports, so cell.py, run.py and the smoke test
can all read it.

A workload function (``bench/workloads/<module>.py``, one per workload and
runtime) takes ``n`` and returns raw measurements: ``{"seconds": ...}`` and, for
some, ``"rss_bytes"`` or ``"overshoot_s"``. A Metric turns those into the number
the table shows (``us per goroutine``, ``ms``, ...). Every metric is lower-is-better.

Sizes: ``n`` is the workload's size as the brief states it; ``quick_n`` is the
``--quick`` smoke size. Some runtimes cannot reach ``n`` within the run's time
budget (threads cost an OS stack and a pid each, and this machine's pid_max is
32,768; trio's channels are slow), so ``reduced`` gives them their own size, and
the report marks those cells. A per-unit metric (ns per item) stays comparable
at a smaller n; a total (ms for the whole chain) does not, so the report shows
no ratio for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Raw = dict[str, float]


@dataclass(frozen=True)
class Metric:
    """One row of the table."""

    key: str  # row name, e.g. "W4 100k"
    label: str  # what is measured
    unit: str
    compute: Callable[[Raw, int], float]
    target: float  # the project's target for goroutines (lower is better)
    stretch: float
    per_unit: bool = True  # per goroutine/item/sleep: comparable across different n


@dataclass(frozen=True)
class Reduced:
    """A runtime's own size for a workload whose n it cannot reach in time."""

    n: int | None  # None: the runtime does not run this workload at all
    quick_n: int | None
    why: str


@dataclass(frozen=True)
class Workload:
    id: str  # cell name, e.g. "W4-100k"
    func: str  # function name in every bench/workloads/<runtime>.py
    title: str
    n: int
    quick_n: int
    metrics: tuple[Metric, ...]
    n_label: str = "goroutines"  # what n counts
    reduced: dict[str, Reduced] = field(default_factory=dict)  # by runtime key

    @property
    def group(self) -> str:
        """ "W4" for "W4-10k": what --only matches."""
        return self.id.split("-")[0]

    def size(self, runtime: str, quick: bool) -> int | None:
        """n for this runtime (None: the runtime cannot run it)."""
        r = self.reduced.get(runtime)
        if r is not None:
            return r.quick_n if quick else r.n
        return self.quick_n if quick else self.n


def _per(scale: float, items: int = 1) -> Callable[[Raw, int], float]:
    def compute(raw: Raw, n: int) -> float:
        return raw["seconds"] * scale / (n * items)

    return compute


def _ms(raw: Raw, n: int) -> float:
    return raw["seconds"] * 1e3


def _kb_per(raw: Raw, n: int) -> float:
    return raw["rss_bytes"] / 1024 / n


def _overshoot_ms(raw: Raw, n: int) -> float:
    return raw["overshoot_s"] * 1e3


def _ratio(raw: Raw, n: int) -> float:
    """The run's time over its baseline's (W11: 2 Ps over 1; W12: with the
    stuck goroutine over without it)."""
    return raw["seconds"] / raw["seconds_base"]


PRODUCERS = 4  # W6
WORKERS = 8  # W7
BUFFER = 128  # W3 channel capacity, W7 jobs and results capacity
SLEEP_MAX = 0.050  # W9 sleeps are uniform in [0, SLEEP_MAX) seconds
SEED = 20240601  # W9 sleep durations
HASH_MIB = 8  # W11: each goroutine hashes this many MiB with sha256 ...
ZLIB_MIB = 1  # ... and compresses this many with zlib (both release the GIL)
W12_ROUNDS = 1_000  # W12: round trips per ping-pong pair
W12_SLEEP = 1.0  # W12: the first goroutine's time.sleep


_GIL = "every hand-off between threads goes through the GIL and the OS scheduler"
_SLOW_THREAD = "a thread start costs ~100-200 µs here"
_PIDS = "100,000 threads exceed this machine's pid_max (32,768)"
_TRIO = "trio's memory channels cost ~10 µs per item here: a smaller n keeps the run short"

WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "W1", "spawn", "spawn: n goroutines that each just finish (WaitGroup)",
        100_000, 10_000,
        (Metric("W1", "spawn + finish", "µs/goroutine", _per(1e6), 2.0, 1.0),),
        reduced={"threads": Reduced(2_000, 500, _SLOW_THREAD)},
    ),
    Workload(
        "W2", "ping_pong", "ping-pong: n round trips over two unbuffered channels",
        100_000, 10_000,
        (Metric("W2", "ping-pong round trip", "ns/round trip", _per(1e9), 1_200, 600),),
        n_label="round trips",
        reduced={"threads": Reduced(5_000, 1_000, _GIL)},
    ),
    Workload(
        "W3", "buffered", f"buffered: n ints through a channel of capacity {BUFFER}",
        1_000_000, 100_000,
        (Metric("W3", "buffered channel", "ns/item", _per(1e9), 400, 150),),
        n_label="items",
        reduced={
            "threads": Reduced(200_000, 20_000, _GIL),
            "trio": Reduced(200_000, 20_000, _TRIO),
        },
    ),
    Workload(
        "W4-10k", "daisy_chain", "daisy chain (Pike's whispers) of n goroutines",
        10_000, 1_000,
        (Metric("W4 10k", "daisy chain, 10,000", "ms", _ms, 100, 35, per_unit=False),),
        reduced={"threads": Reduced(1_000, 200, _SLOW_THREAD)},
    ),
    Workload(
        "W4-100k", "daisy_chain", "daisy chain (Pike's whispers) of n goroutines",
        100_000, 10_000,
        (Metric("W4 100k", "daisy chain, 100,000", "ms", _ms, 1_300, 450, per_unit=False),),
        reduced={"threads": Reduced(None, None, _PIDS)},
    ),
    Workload(
        "W5", "prime_sieve", "prime sieve: the first n primes, one filter goroutine per prime",
        1_000, 100,
        (Metric("W5", "prime sieve, 1,000 primes", "ms", _ms, 400, 250, per_unit=False),),
        n_label="primes",
        reduced={"threads": Reduced(300, 50, _GIL + " (1,000 primes take ~20 s)")},
    ),
    Workload(
        "W6", "select_fan_in",
        f"select fan-in: {PRODUCERS} producers x n items, one consumer selecting",
        50_000, 5_000,
        (Metric("W6", f"select fan-in, {PRODUCERS} producers", "ns/item",
                _per(1e9, PRODUCERS), 2_000, 700),),
        n_label="items per producer",
        reduced={
            "threads": Reduced(2_000, 500, _GIL),
            "trio": Reduced(10_000, 2_000, _TRIO),
        },
    ),
    Workload(
        "W7", "worker_pool", f"worker pool: n small jobs through {WORKERS} workers",
        100_000, 10_000,
        (Metric("W7", f"worker pool, {WORKERS} workers", "ns/job", _per(1e9), 1_000, 250),),
        n_label="jobs",
        reduced={
            "threads": Reduced(20_000, 2_000, _GIL),
            "trio": Reduced(20_000, 2_000, _TRIO),
        },
    ),
    Workload(
        "W8", "memory", "memory: n goroutines parked in recv (RSS delta)",
        100_000, 10_000,
        (Metric("W8", "memory per parked goroutine", "KB", _kb_per, 7.0, 3.0),),
        reduced={"threads": Reduced(2_000, 200, _SLOW_THREAD)},
    ),
    Workload(
        "W9", "timers",
        f"timers: n goroutines each sleeping a random 0-{SLEEP_MAX * 1e3:.0f} ms",
        10_000, 1_000,
        (
            Metric("W9 wall", "timers: wall time", "ms", _ms, 70, 60, per_unit=False),
            Metric("W9 overshoot", "timers: mean overshoot", "ms", _overshoot_ms, 1.0, 0.5),
        ),
        reduced={"threads": Reduced(1_000, 200, _SLOW_THREAD)},
    ),
)

_SCHED_ONLY = "a scheduler workload: goroutines' P hand-off (threads run W11 as the peer)"
_NOT_SCHED = ("greenlet", "gevent", "asyncio", "uvloop", "trio", "go")

WORKLOADS += (
    Workload(
        "W11", "parallel_c",
        f"parallel C work: n goroutines each hashing {HASH_MIB} MiB (sha256) and "
        f"compressing {ZLIB_MIB} MiB (zlib); 2 Ps against 1 (threads: a pool of 2 against 1)",
        64, 8,
        (
            Metric("W11 2P", "parallel C work at 2 Ps", "ms", _ms, 2_500, 2_000, per_unit=False),
            Metric("W11 2P/1P", "time at 2 Ps / time at 1", "ratio", _ratio, 0.59, 0.55,
                   per_unit=False),
        ),
        reduced={k: Reduced(None, None, _SCHED_ONLY) for k in _NOT_SCHED},
    ),
    Workload(
        "W12", "blocked_thread",
        f"blocked thread: the first of n+1 goroutines calls time.sleep({W12_SLEEP:g}), "
        f"the other n ping-pong in pairs {W12_ROUNDS:,} times; their time with the "
        "sleeper over their time without",
        1_000, 100,
        (
            Metric("W12", "pairs' time with a stuck goroutine", "ms", _ms, 1_500, 1_000,
                   per_unit=False),
            Metric("W12 ratio", "with the stuck goroutine / without", "ratio", _ratio, 1.2, 1.1,
                   per_unit=False),
        ),
        reduced={**{k: Reduced(None, None, _SCHED_ONLY) for k in _NOT_SCHED},
                 "threads": Reduced(None, None, _SCHED_ONLY)},
    ),
)

WORKLOAD_BY_ID = {w.id: w for w in WORKLOADS}
METRICS: tuple[Metric, ...] = tuple(m for w in WORKLOADS for m in w.metrics)
METRIC_BY_KEY = {m.key: m for m in METRICS}
METRIC_WORKLOAD = {m.key: w for w in WORKLOADS for m in w.metrics}


@dataclass(frozen=True)
class Runtime:
    key: str  # the name on the command line
    label: str  # the column heading
    module: str | None  # bench.workloads.<module>; None for the Go binary
    requires: tuple[str, ...]  # importable modules it needs
    note: str  # the idioms used, for the report
    env: tuple[tuple[str, str], ...] = ()  # environment of its cells


RUNTIMES: tuple[Runtime, ...] = (
    Runtime(
        "goroutines", "goroutines", "goroutines", ("goroutines",),
        "`go`, `Chan` (unbuffered unless stated), `select` over `recv_ok` cases, "
        "`WaitGroup`, `sleep`; each program runs under `run()`. With the optional C "
        "accelerator (`goroutines._runtime._speedups`), as installed by default.",
    ),
    Runtime(
        "goroutines-pure", "goroutines (pure Python)", "goroutines", ("goroutines",),
        "The goroutines programs, unchanged, with `GOROUTINES_PURE=1`: the pure-Python "
        "runtime, what runs where the accelerator is not built.",
        env=(("GOROUTINES_PURE", "1"),),
    ),
    Runtime(
        "greenlet", "raw greenlet (floor)", "greenlet", ("greenlet",),
        "bench/floor.py: a minimal scheduler on the greenlet package with direct "
        "hand-off (a parking greenlet switches straight to the next runnable one), "
        "worker-greenlet reuse, lock-free channels and a recv-only select with lazily "
        "skipped stale waiters; no threads, panics, contexts or deadlock dump. "
        "The lower bound for any greenlet runtime.",
    ),
    Runtime(
        "gevent", "gevent", "gevent", ("gevent",),
        "`gevent.spawn` + `gevent.joinall`; `gevent.queue.Channel` for unbuffered "
        "channels, `Queue(n)` for buffered ones, `StopIteration` put as the end marker "
        "(gevent's documented iteration protocol); no select: W6 uses one forwarder "
        "greenlet per producer into one merged `Channel`. W8 leaves its greenlets parked "
        "at exit: waking 100,000 getters of one gevent `Queue` takes ~100 s (it grows "
        "quadratically), outside the measurement but past the cell's timeout.",
    ),
    Runtime(
        "asyncio", "asyncio", "asyncio", ("asyncio",),
        "`asyncio.TaskGroup` / `create_task`; `asyncio.Queue(1)` stands in for an "
        "unbuffered channel (asyncio has no rendezvous queue), `Queue(n)` for buffered "
        "ones, `None` as the end marker; no select: W6 uses one forwarder task per "
        "producer into one merged queue.",
    ),
    Runtime(
        "uvloop", "asyncio+uvloop", "uvloop", ("uvloop",),
        "The asyncio programs, unchanged, run by `uvloop.run`. libuv keeps time in "
        "whole milliseconds, so a uvloop sleep may return up to ~1.3 ms early; W9's "
        "never-early check allows 2 ms.",
    ),
    Runtime(
        "trio", "trio", "trio", ("trio",),
        "Nurseries and `trio.open_memory_channel(0)` (unbuffered) / `(n)`; closing "
        "the send side ends `async for`; `send_channel.clone()` for many senders; no "
        "select: W6 uses one forwarder task per producer into one merged channel.",
    ),
    Runtime(
        "threads", "threads", "threads", ("threading",),
        "`threading.Thread` + `join`, `queue.Queue(1)` for unbuffered channels, "
        "`Queue(n)` for buffered ones, `None` as the end marker; no select: W6 uses "
        "one forwarder thread per producer into one merged queue. Smaller n where "
        "threads cannot reach it (marked †).",
    ),
    Runtime(
        "go", "Go (reference)", None, (),
        "bench/go: the same programs in Go (goroutines, unbuffered `chan`, `select`, "
        "`sync.WaitGroup`, `time.Sleep`), run with GOMAXPROCS=1. Joins the table only "
        "when a Go toolchain is on PATH.",
    ),
)

RUNTIME_BY_KEY = {r.key: r for r in RUNTIMES}
BASE = "goroutines"  # every peer's ratio is to this runtime
FLOOR = "greenlet"  # ... and every row's ratio also to this one


def nth_prime(k: int) -> int:
    """The k-th prime (1-based): what W5 checks its sieve against."""
    limit = 16
    while True:
        sieve = bytearray([1]) * limit
        sieve[0:2] = b"\0\0"
        for i in range(2, int(limit**0.5) + 1):
            if sieve[i]:
                sieve[i * i :: i] = bytes(len(range(i * i, limit, i)))
        primes = [i for i in range(limit) if sieve[i]]
        if len(primes) >= k:
            return primes[k - 1]
        limit *= 2
