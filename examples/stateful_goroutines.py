"""Go by Example: Stateful Goroutines, ported
(https://gobyexample.com/stateful-goroutines).

Shows: instead of a mutex, one goroutine owns the state (a dict) and the
others ask it for reads and writes over channels, each request carrying its
own reply channel. Nobody else can touch the dict, so it needs no lock:
"share memory by communicating". 100 readers and 10 writers run for 0.3 s
and count their operations in AtomicInts (the counts vary from run to run).

Run: python examples/stateful_goroutines.py
"""

import random
from dataclasses import dataclass, field

from goroutines import AtomicInt, Chan, go, recv, run, select, sleep


@dataclass
class ReadOp:
    key: int
    resp: Chan[int] = field(default_factory=Chan[int])


@dataclass
class WriteOp:
    key: int
    val: int
    resp: Chan[bool] = field(default_factory=Chan[bool])


def main() -> None:
    rng = random.Random(1)
    read_ops = AtomicInt()
    write_ops = AtomicInt()
    reads = Chan[ReadOp]()
    writes = Chan[WriteOp]()

    def owner() -> None:
        state: dict[int, int] = {}  # private to this goroutine
        while True:
            match select(recv(reads), recv(writes)):
                case (0, read):
                    read.resp.send(state.get(read.key, 0))
                case (1, write):
                    state[write.key] = write.val
                    write.resp.send(True)

    def reader() -> None:
        while True:
            read = ReadOp(key=rng.randrange(5))
            reads.send(read)
            read.resp.recv()
            read_ops.add(1)
            sleep(0.001)

    def writer() -> None:
        while True:
            write = WriteOp(key=rng.randrange(5), val=rng.randrange(100))
            writes.send(write)
            write.resp.recv()
            write_ops.add(1)
            sleep(0.001)

    go(owner)
    for _ in range(100):
        go(reader)
    for _ in range(10):
        go(writer)

    sleep(0.3)  # let them work; run() ends them when main returns

    print("readOps:", read_ops.load())
    print("writeOps:", write_ops.load())


if __name__ == "__main__":
    run(main)
