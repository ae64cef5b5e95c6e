"""The Go blog, "Pipelines and cancellation" (2014), its last program:
digesting a tree of files with bounded parallelism, ported with errgroup.

Shows: errgroup.with_context(ctx) runs a group of goroutines that share a
context; g.set_limit(n) bounds how many run at once (the blog starts a
fixed number of digester goroutines for the same reason); g.wait() waits
for all of them and re-raises the first error, and that first error cancels
the group's context, so the others stop early. The "files" live in memory
and reading one takes 20 ms, so no disk is involved.

Run: python examples/bounded_parallelism.py
"""

import hashlib

from goroutines import AtomicInt, Mutex, after, recv, run, select
from goroutines.context import Context, background
from goroutines.errgroup import with_context

READ_TIME = 0.02
FILES = {f"notes/day{i:02d}.txt": f"gopher notes, day {i}\n".encode() * i for i in range(1, 21)}


def read_file(ctx: Context, path: str) -> bytes:
    """Read a fake file: takes READ_TIME, unless ctx is cancelled first."""
    match select(recv(after(READ_TIME)), recv(ctx.done())):
        case (1, _):
            err = ctx.err()
            assert err is not None
            raise err
    if path not in FILES:
        raise FileNotFoundError(path)
    return FILES[path]


def md5_all(paths: list[str], limit: int) -> tuple[dict[str, str], int]:
    """The md5 of every path, reading at most `limit` files at once.

    Returns the digests and the largest number of reads seen in flight.
    """
    group, ctx = with_context(background())
    group.set_limit(limit)
    mu = Mutex()  # guards digests
    digests: dict[str, str] = {}
    in_flight, peak = AtomicInt(), AtomicInt()

    def digest(path: str) -> None:
        n = in_flight.add(1)
        while (seen := peak.load()) < n and not peak.compare_and_swap(seen, n):
            pass  # another digest raised the peak meanwhile: look again
        try:
            data = read_file(ctx, path)
        finally:
            in_flight.add(-1)
        with mu:
            digests[path] = hashlib.md5(data).hexdigest()

    for path in paths:
        group.go(digest, path)  # blocks while `limit` digests are running
    group.wait()  # raises the first error, if any
    return digests, peak.load()


def main() -> None:
    paths = sorted(FILES)
    digests, peak = md5_all(paths, limit=4)
    for path in paths[:3]:
        print(digests[path], path)
    print(f"... {len(digests)} files digested, at most {peak} at once")

    try:
        md5_all([*paths[:10], "notes/missing.txt", *paths[10:]], limit=4)
    except FileNotFoundError as e:
        print("failed:", repr(e), "(the other reads were cancelled)")


if __name__ == "__main__":
    run(main)
