"""The network benchmarks' servers start and answer (bench/net_servers.py);
the measurements themselves are `python bench/net_run.py`."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVERS = ROOT / "bench" / "net_servers.py"


def start(runtime: str) -> tuple[subprocess.Popen[str], int]:
    env = dict(os.environ)
    if runtime == "goroutines-pure":
        env["GOROUTINES_PURE"] = "1"
    proc = subprocess.Popen([sys.executable, str(SERVERS), runtime], stdout=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip().isdigit(), f"{runtime}: no port printed"
    return proc, int(line)


@pytest.mark.parametrize("runtime", ["goroutines", "goroutines-pure", "asyncio", "threads"])
def test_echo_server_answers(runtime: str) -> None:
    proc, port = start(runtime)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            for i in range(10):
                msg = b"%03d" % i * 20
                s.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    got += s.recv(len(msg) - len(got))
                assert got == msg
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(importlib.util.find_spec("h11") is None, reason="h11 is not installed")
def test_http_server_keeps_connections_alive() -> None:
    proc, port = start("http-goroutines")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            for _ in range(3):
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                got = b""
                while not got.endswith(b"Hello, World!"):
                    data = s.recv(4096)
                    assert data, "the server closed the connection"
                    got += data
                assert got.startswith(b"HTTP/1.1 200 ")
    finally:
        proc.kill()
        proc.wait()
