"""A Tour of Go, exercise "Web Crawler", ported
(https://go.dev/tour/concurrency/10), with a fake fetcher and no network.

Shows: crawling a small fake web site in parallel, one goroutine per page,
up to a depth of 4, without fetching any page twice. A Mutex-guarded set
remembers the pages already claimed, and a WaitGroup waits for every crawl
goroutine. Each fetch takes 50 ms; the pages are fetched concurrently, so
the crawl takes about as long as the deepest chain of links, not the sum.

Run: python examples/web_crawler.py
"""

import time

from goroutines import Mutex, WaitGroup, run, sleep

FETCH_TIME = 0.05


class NotFound(Exception):
    pass


# url -> (title, links): a tiny site about gophers.
FAKE_WEB: dict[str, tuple[str, list[str]]] = {
    "https://gophers.example/": (
        "Gophers, a field guide",
        ["https://gophers.example/habitat/", "https://gophers.example/diet/"],
    ),
    "https://gophers.example/habitat/": (
        "Where gophers live",
        [
            "https://gophers.example/",
            "https://gophers.example/habitat/burrows/",
            "https://gophers.example/diet/",
        ],
    ),
    "https://gophers.example/habitat/burrows/": (
        "Burrows and tunnels",
        ["https://gophers.example/habitat/", "https://gophers.example/maps/"],
    ),
    "https://gophers.example/diet/": (
        "What gophers eat",
        ["https://gophers.example/", "https://gophers.example/diet/roots/"],
    ),
    "https://gophers.example/diet/roots/": (
        "Roots and tubers",
        ["https://gophers.example/diet/", "https://gophers.example/habitat/burrows/"],
    ),
}


def fetch(url: str) -> tuple[str, list[str]]:
    sleep(FETCH_TIME)  # the network round trip
    if url not in FAKE_WEB:
        raise NotFound(url)
    return FAKE_WEB[url]


class VisitedSet:
    """The set of URLs already claimed; safe for concurrent use."""

    def __init__(self) -> None:
        self.mu = Mutex()  # guards urls
        self.urls: set[str] = set()

    def claim(self, url: str) -> bool:
        """True if url was not claimed before (and now is)."""
        with self.mu:
            if url in self.urls:
                return False
            self.urls.add(url)
            return True


def crawl(url: str, depth: int, visited: VisitedSet, wg: WaitGroup) -> None:
    if depth <= 0 or not visited.claim(url):
        return
    try:
        title, links = fetch(url)
    except NotFound:
        print("not found:", url)
        return
    print(f"found: {url} {title!r}")
    for link in links:
        wg.go(crawl, link, depth - 1, visited, wg)


def main() -> None:
    start = time.monotonic()
    visited, wg = VisitedSet(), WaitGroup()
    wg.go(crawl, "https://gophers.example/", 4, visited, wg)
    wg.wait()
    print(f"{len(visited.urls)} pages in {time.monotonic() - start:.2f}s "
          f"({FETCH_TIME}s a fetch)")


if __name__ == "__main__":
    run(main)
