"""A Tour of Go, exercise "Equivalent Binary Trees", ported
(https://go.dev/tour/concurrency/7 and /8).

Shows: walking a tree in a goroutine that sends its values, in order, on a
channel; two such walks compared side by side decide whether two trees of
different shapes hold the same values. new_tree(k) builds a random binary
search tree holding k, 2k, ..., 10k (seeded, so the shapes are the same on
every run). The walker closes its channel when done; same() stops early at
the first difference and cancels both walkers through a quit channel, so no
goroutine is left blocked.

Run: python examples/equivalent_binary_trees.py
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from goroutines import Chan, RecvChan, go, recv, run, select, send


@dataclass
class Tree:
    value: int
    left: Tree | None = None
    right: Tree | None = None


def insert(t: Tree | None, v: int) -> Tree:
    if t is None:
        return Tree(v)
    if v < t.value:
        t.left = insert(t.left, v)
    else:
        t.right = insert(t.right, v)
    return t


def new_tree(k: int, rng: random.Random) -> Tree:
    """A random binary search tree holding k, 2k, ..., 10k (the Tour's tree.New)."""
    values = [k * i for i in range(1, 11)]
    rng.shuffle(values)
    t = None
    for v in values:
        t = insert(t, v)
    assert t is not None
    return t


def walk(t: Tree, ch: Chan[int], quit: Chan[None]) -> None:
    """Send t's values in order on ch, then close it; stop early on quit."""

    def visit(t: Tree | None) -> bool:
        if t is None:
            return True
        if not visit(t.left):
            return False
        index, _ = select(send(ch, t.value), recv(quit))
        return index == 0 and visit(t.right)

    visit(t)
    ch.close()


def walker(t: Tree, quit: Chan[None]) -> RecvChan[int]:
    ch = Chan[int]()
    go(walk, t, ch, quit)
    return ch.recv_only()


def same(t1: Tree, t2: Tree) -> bool:
    """Whether t1 and t2 hold the same values."""
    quit = Chan[None]()
    try:
        c1, c2 = walker(t1, quit), walker(t2, quit)
        while True:
            v1, ok1 = c1.recv_ok()
            v2, ok2 = c2.recv_ok()
            if ok1 != ok2 or v1 != v2:
                return False
            if not ok1:
                return True
    finally:
        quit.close()  # a closed channel is always ready: both walkers stop


def main() -> None:
    rng = random.Random(7)
    ch = Chan[int]()
    go(walk, new_tree(1, rng), ch, Chan[None]())
    print("walk(new_tree(1)):", *ch)

    a, b = new_tree(1, rng), new_tree(1, rng)
    print("new_tree(1) and new_tree(1) have the same shape:", a == b)
    print("same(new_tree(1), new_tree(1)):", same(a, b))
    print("same(new_tree(1), new_tree(2)):", same(new_tree(1, rng), new_tree(2, rng)))


if __name__ == "__main__":
    run(main)
