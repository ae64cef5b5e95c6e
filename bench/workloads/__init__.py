"""The workloads, one module per runtime, one function per workload.

Every function takes ``n``, times the work inside the runtime (after its
start-up, before its shutdown), checks its own result with ``check`` and
returns the raw measurements described in bench/spec.py. A wrong result raises
BenchmarkError: a fast wrong answer must never reach the table.
"""

from __future__ import annotations

import os

from ..spec import (
    BUFFER,
    HASH_MIB,
    PRODUCERS,
    SEED,
    SLEEP_MAX,
    W12_ROUNDS,
    W12_SLEEP,
    WORKERS,
    ZLIB_MIB,
    nth_prime,
)

__all__ = [
    "BUFFER",
    "PRODUCERS",
    "SEED",
    "SLEEP_MAX",
    "W12_ROUNDS",
    "W12_SLEEP",
    "WORKERS",
    "BenchmarkError",
    "c_work_input",
    "c_work_item",
    "check",
    "check_overshoot",
    "expected_prime",
    "rss_bytes",
    "sleep_durations",
    "sum_of_squares",
]


class BenchmarkError(RuntimeError):
    """A workload computed the wrong result."""


def check(workload: str, what: str, got: object, want: object) -> None:
    """Raise BenchmarkError unless got == want."""
    if got != want:
        raise BenchmarkError(f"{workload}: {what} is {got!r}, expected {want!r}")


def expected_prime(n: int) -> int:
    """The n-th prime; the brief's fixed point is that the 1,000th is 7919."""
    p = nth_prime(n)
    if n == 1_000:
        check("W5", "1,000th prime (reference sieve)", p, 7919)
    return p


def sum_of_squares(n: int) -> int:
    """sum(j * j for j in range(n)): what W7's results add up to."""
    return (n - 1) * n * (2 * n - 1) // 6


def sleep_durations(n: int) -> list[float]:
    """W9's sleep durations: the same seeded sequence for every runtime."""
    import random

    rng = random.Random(SEED)
    return [rng.uniform(0.0, SLEEP_MAX) for _ in range(n)]


# How early a sleep may return before W9 calls it wrong: libuv (uvloop) keeps
# its clock in whole milliseconds, so its sleeps can return up to ~1.3 ms early.
EARLY_TOLERANCE = 2e-3


def check_overshoot(overshoots: list[float], n: int) -> float:
    """Check W9's per-sleep overshoots (all woke, none early) and return their mean."""
    check("W9", "sleepers that woke", len(overshoots), n)
    early = min(overshoots)
    if early < -EARLY_TOLERANCE:
        raise BenchmarkError(f"W9: a sleep returned {-early * 1e3:.3f} ms early")
    return sum(overshoots) / n


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """This process's resident set size now (W8)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        import psutil  # not Linux: the bench extra has it

        return int(psutil.Process().memory_info().rss)


def c_work_input() -> tuple[bytes, bytes]:
    """W11's inputs: HASH_MIB MiB to hash and ZLIB_MIB MiB to compress (fixed
    bytes, compressible like text)."""
    import random

    rng = random.Random(SEED)
    words = [bytes(rng.choices(range(97, 123), k=rng.randint(2, 9))) for _ in range(4096)]
    text = b" ".join(rng.choices(words, k=(ZLIB_MIB << 20) // 5))[: ZLIB_MIB << 20]
    return (text * (HASH_MIB // ZLIB_MIB + 1))[: HASH_MIB << 20], text


def c_work_item(data: bytes, comp: bytes) -> tuple[str, int]:
    """One W11 item: sha256 of data and the zlib-compressed size of comp
    (both release the GIL for buffers this large)."""
    import hashlib
    import zlib

    return hashlib.sha256(data).hexdigest(), len(zlib.compress(comp, 6))
