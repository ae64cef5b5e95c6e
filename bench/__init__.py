"""The benchmark suite: W1-W9 for goroutines and its peers, side by side.

Run it with ``make bench`` (or ``python bench/run.py --help``). Layout:

  spec.py              the workloads (sizes, units, targets) and the runtimes
  cell.py              one (runtime, workload) measurement in a fresh process
  run.py               the runner: repeats cells, prints and writes the report
  floor.py             the raw-greenlet floor: a minimal direct hand-off scheduler
  calibrate.py         this machine's cost of a Python loop step and a greenlet switch
  workloads/<rt>.py    each workload written idiomatically for one runtime
  go/                  the Go reference (joins the table when ``go`` is on PATH)
"""
