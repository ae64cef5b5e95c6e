"""A port scanner with bounded concurrency and dial timeouts.

Shows: a worker pool (16 goroutines) over a channel of ports, each worker
dialing with ``net.dial(..., timeout=...)``; a refused connection and a
timeout both mean "closed". A few listeners are opened first, among a
range of closed ports, and the scan must find exactly those.

Run: python examples/port_scanner.py
"""

import socket

from goroutines import Chan, WaitGroup, net, run

WORKERS = 16


def closed_ports(n: int) -> list[int]:
    """Ports nothing listens on (bound, never listened, then released)."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def scan(host: str, ports: list[int]) -> list[int]:
    todo = Chan[int]()
    found = Chan[int](len(ports))
    wg = WaitGroup()

    def worker() -> None:
        for port in todo:
            try:
                with net.dial("tcp", net.join_host_port(host, port), timeout=0.5):
                    found.send(port)
            except (ConnectionRefusedError, net.DeadlineExceeded):
                pass  # closed, or filtered

    for _ in range(WORKERS):
        wg.go(worker)
    for port in ports:
        todo.send(port)
    todo.close()
    wg.wait()
    found.close()
    return sorted(found)


def main() -> None:
    listeners = [net.listen("tcp", "127.0.0.1:0") for _ in range(3)]
    open_ports = sorted(ln.addr[1] for ln in listeners)
    ports = sorted(open_ports + closed_ports(97))
    result = scan("127.0.0.1", ports)
    print(f"scanned {len(ports)} ports with {WORKERS} workers")
    print(f"open: {len(result)}")
    print("found exactly the listeners:", result == open_ports)
    for ln in listeners:
        ln.close()


if __name__ == "__main__":
    run(main)
