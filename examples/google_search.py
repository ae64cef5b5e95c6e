"""Rob Pike, "Go Concurrency Patterns" (2012): the fake Google Search,
versions 1.0, 2.0, 2.1 and 3.0.

Shows how concurrency turns a slow sequential program into a fast, robust
one without locks or callbacks. Each fake backend (web, image, video)
answers after a random 0-99 ms (seeded, so every run prints the same
results).
  1.0  calls the three backends one after another: the latencies add up;
  2.0  calls them concurrently and collects the answers from one channel:
       the slowest backend sets the pace;
  2.1  adds a timeout of 80 ms for the whole search: slow results are
       dropped rather than waited for;
  3.0  asks two replicas of every backend and keeps the first answer
       ("first response wins"), so a slow replica rarely costs a result.
The result channels are buffered so that a backend answering after the
timeout, or a losing replica, can still deliver and exit instead of
blocking forever (Pike's slides leave those goroutines behind).

Run: python examples/google_search.py
"""

import random
import time
from collections.abc import Callable

from goroutines import Chan, after, go, recv, run, select, sleep

Result = str
Search = Callable[[str], Result]

TIMEOUT = 0.08
rng = random.Random(578)


def fake_search(kind: str) -> Search:
    def search(query: str) -> Result:
        sleep(rng.randrange(100) / 1000)
        return f"{kind} result for {query!r}"

    return search


web, image, video = fake_search("web"), fake_search("image"), fake_search("video")
web1, web2 = fake_search("web1"), fake_search("web2")
image1, image2 = fake_search("image1"), fake_search("image2")
video1, video2 = fake_search("video1"), fake_search("video2")


def search_into(c: Chan[Result], search: Search, query: str) -> None:
    c.send(search(query))


def google_1_0(query: str) -> list[Result]:
    return [web(query), image(query), video(query)]


def google_2_0(query: str) -> list[Result]:
    c = Chan[Result](3)
    for search in (web, image, video):
        go(search_into, c, search, query)
    return [c.recv() or "" for _ in range(3)]


def google_2_1(query: str) -> list[Result]:
    c = Chan[Result](3)
    for search in (web, image, video):
        go(search_into, c, search, query)
    results: list[Result] = []
    timeout = after(TIMEOUT)  # one timer for the whole search
    for _ in range(3):
        match select(recv(c), recv(timeout)):
            case (0, result):
                results.append(result)
            case (1, _):
                break  # too slow: go without the missing results
    return results


def first(query: str, *replicas: Search) -> Result:
    c = Chan[Result](len(replicas))
    for replica in replicas:
        go(search_into, c, replica, query)
    return c.recv() or ""


def first_into(c: Chan[Result], query: str, *replicas: Search) -> None:
    c.send(first(query, *replicas))


def google_3_0(query: str) -> list[Result]:
    c = Chan[Result](3)
    go(first_into, c, query, web1, web2)
    go(first_into, c, query, image1, image2)
    go(first_into, c, query, video1, video2)
    results: list[Result] = []
    timeout = after(TIMEOUT)
    for _ in range(3):
        match select(recv(c), recv(timeout)):
            case (0, result):
                results.append(result)
            case (1, _):
                break  # too slow: go without the missing results
    return results


def main() -> None:
    for name, google in [
        ("1.0", google_1_0),
        ("2.0", google_2_0),
        ("2.1", google_2_1),
        ("3.0", google_3_0),
    ]:
        print(f"Google Search {name}:")
        start = time.monotonic()
        results = google("goroutines")
        elapsed = time.monotonic() - start
        for r in results:
            print("  " + r)
        note = " (timed out)" if len(results) < 3 else ""
        print(f"  {len(results)} results in {elapsed * 1000:.0f} ms{note}")


if __name__ == "__main__":
    run(main)
