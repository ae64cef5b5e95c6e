"""One benchmark cell, in a fresh process: ``python -m bench.cell RUNTIME WORKLOAD``.

Runs one workload once for one runtime and prints one JSON object on its last
line of stdout:

    {"runtime": "goroutines", "workload": "W2", "n": 100000,
     "raw": {"seconds": 0.12}, "metrics": {"W2": 1200.0}}

A fresh process per repetition keeps one runtime's warm pools (free greenlets,
thread caches, allocator arenas) from flattering the next measurement. A
wrong result raises (exit status 1, traceback on stderr).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from .spec import RUNTIME_BY_KEY, WORKLOAD_BY_ID


def measure(runtime: str, workload: str, n: int) -> dict[str, object]:
    """Run one cell in this process and return its JSON-ready result."""
    rt = RUNTIME_BY_KEY[runtime]
    wl = WORKLOAD_BY_ID[workload]
    if rt.module is None:
        raise ValueError(f"{runtime} has no Python module (the runner runs it)")
    module = importlib.import_module(f"bench.workloads.{rt.module}")
    raw = getattr(module, wl.func)(n)
    return {
        "runtime": runtime,
        "workload": workload,
        "n": n,
        "raw": raw,
        "metrics": {m.key: m.compute(raw, n) for m in wl.metrics},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.cell", description=__doc__.split("\n")[0])
    ap.add_argument("runtime", choices=[r.key for r in RUNTIME_BY_KEY.values() if r.module])
    ap.add_argument("workload", choices=list(WORKLOAD_BY_ID))
    ap.add_argument("--n", type=int, help="size (default: the spec's n for this runtime)")
    ap.add_argument("--quick", action="store_true", help="the spec's smoke-test size")
    args = ap.parse_args(argv)
    n = args.n
    if n is None:
        n = WORKLOAD_BY_ID[args.workload].size(args.runtime, args.quick)
        if n is None:
            ap.error(f"{args.runtime} does not run {args.workload}")
    result = measure(args.runtime, args.workload, n)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
