"""The race detector's overhead: each workload plain and under ``--race``,
in the same run, medians of repeated runs.

    python bench/race_overhead.py [--repeat 5] [--only W2,W8]

Each run is ``python -m goroutines run [--race] bench/race_workloads/X.py``
in a fresh process; the workload prints the CPU time of its measured part
(time.process_time), and the parent reads the process's peak RSS (wait4).
Plain runs are measured twice: on the C accelerator (the default) and on the
pure-Python path (GOROUTINES_PURE=1), which is what --race runs on; the
ratio is --race over the pure path, and over the default.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ROOT / "bench" / "race_workloads"
CASES = [("W2 ping-pong", "w2_ping_pong.py", "20000"), ("W3 buffered", "w3_buffered.py", "100000"),
         ("W5 prime sieve", "w5_prime_sieve.py", "300"),
         ("W6 select fan-in", "w6_select_fan_in.py", "5000"),
         ("W7 worker pool", "w7_worker_pool.py", "20000"),
         ("compute loop", "compute.py", "200000"),
         # Reported, not gated: many live goroutines (clocks grow with them).
         ("W1 spawn", "w1_spawn.py", "100000"),
         ("W4 daisy chain", "w4_daisy_chain.py", "10000"),
         ("W8 parked goroutines", "w8_memory.py", "100000")]  # fmt: skip


def one(script: Path, n: str, race: bool, pure: bool) -> float:
    env = dict(os.environ)
    env.pop("GOROUTINES_PURE", None)
    if pure:
        env["GOROUTINES_PURE"] = "1"
    cmd = [sys.executable, "-m", "goroutines", "run", *(["--race"] if race else []), str(script), n]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    out, err = p.communicate(timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}\n{err.decode()}")
    cpu = float(json.loads(out.decode().strip().splitlines()[-1])["cpu"])
    return cpu


def rss(script: Path, n: str, race: bool, pure: bool) -> float:
    env = dict(os.environ)
    env.pop("GOROUTINES_PURE", None)
    if pure:
        env["GOROUTINES_PURE"] = "1"
    cmd = [sys.executable, "-m", "goroutines", "run", *(["--race"] if race else []), str(script), n]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    _, _, usage = os.wait4(p.pid, 0)
    return usage.ru_maxrss / 1024  # MiB (Linux reports KiB)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated workload labels' first words (W2,W8)")
    args = ap.parse_args()
    only = {w for w in args.only.split(",") if w}
    print("| workload | default CPU s | pure CPU s | --race CPU s | --race / pure | --race / default "
          "| RSS pure MiB | RSS --race MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for label, name, n in CASES:
        if only and label.split()[0] not in only:
            continue
        script = WORKLOADS / name
        res: dict[str, list[float]] = {"default": [], "pure": [], "race": []}
        for _ in range(args.repeat):  # round-robin: the modes share the machine's state
            res["default"].append(one(script, n, False, False))
            res["pure"].append(one(script, n, False, True))
            res["race"].append(one(script, n, True, True))
        d, p, r = (statistics.median(res[k]) for k in ("default", "pure", "race"))
        mp, mr = rss(script, n, False, True), rss(script, n, True, True)
        print(f"| {label} (n={n}) | {d:.3f} | {p:.3f} | {r:.3f} | {r / p:.1f}x | {r / d:.1f}x "
              f"| {mp:.0f} | {mr:.0f} |", flush=True)


if __name__ == "__main__":
    main()
