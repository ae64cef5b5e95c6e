"""TLS over goroutines.net: handshakes and records driven by the netpoller,
with a self-signed certificate made here (by the openssl command)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import goroutines
from _synctest import wait_blocked
from goroutines import Chan, go, net, now
from goroutines.net import Conn, DeadlineExceeded, NetClosedError, TLSConn

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    d = tmp_path_factory.mktemp("tls")
    key, crt = d / "key.pem", d / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(crt), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    yield key, crt


def contexts(cert: tuple[Path, Path]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    key, crt = cert
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(crt, key)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(crt)
    return server, client


def tls_echo(ln: net.Listener, server_ctx: ssl.SSLContext, errors: Chan[BaseException]) -> None:
    def handle(c: Conn) -> None:
        t = net.tls_server(c, server_ctx)
        try:
            with t:
                while data := t.read(65536):
                    t.write(data)
        except (ssl.SSLError, OSError) as e:
            errors.send(e)

    while True:
        try:
            c = ln.accept()
        except NetClosedError:
            return
        go(handle, c)


def test_tls_round_trips_and_large_records(cert: tuple[Path, Path]) -> None:
    server_ctx, client_ctx = contexts(cert)

    def main() -> None:
        errors: Chan[BaseException] = Chan(100)
        with net.listen("tcp", "127.0.0.1:0") as ln:
            go(tls_echo, ln, server_ctx, errors)
            c = net.tls_client(net.dial("tcp", ln.addr), client_ctx, "localhost")
            assert isinstance(c, TLSConn)
            with c:
                c.handshake()
                assert c.ssl_object.version() is not None
                for i in range(20):
                    msg = b"secret %d" % i
                    c.write(msg)
                    assert c.read(100) == msg
                big = bytes(range(256)) * 8192  # 2 MiB: many records
                got: Chan[bytes] = Chan(1)

                def reader() -> None:
                    parts = []
                    n = 0
                    while n < len(big):
                        part = c.read(65536)
                        parts.append(part)
                        n += len(part)
                    got.send(b"".join(parts))

                go(reader)
                assert c.write(big) == len(big)
                assert got.recv() == big
                assert c.remote_addr == ln.addr
        assert len(errors) == 0

    goroutines.run(main)


def test_tls_handshake_failure_with_an_untrusted_certificate(cert: tuple[Path, Path]) -> None:
    server_ctx, _ = contexts(cert)
    untrusting = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no CA loaded

    def main() -> None:
        errors: Chan[BaseException] = Chan(10)
        with net.listen("tcp", "127.0.0.1:0") as ln:
            go(tls_echo, ln, server_ctx, errors)
            c = net.tls_client(net.dial("tcp", ln.addr), untrusting, "localhost")
            with c, pytest.raises(ssl.SSLCertVerificationError):
                c.handshake()
            # The server side fails its handshake too.
            assert isinstance(errors.recv(), (ssl.SSLError, OSError))

    goroutines.run(main)


def test_tls_hostname_mismatch_fails(cert: tuple[Path, Path]) -> None:
    server_ctx, client_ctx = contexts(cert)

    def main() -> None:
        errors: Chan[BaseException] = Chan(10)
        with net.listen("tcp", "127.0.0.1:0") as ln:
            go(tls_echo, ln, server_ctx, errors)
            c = net.tls_client(net.dial("tcp", ln.addr), client_ctx, "example.org")
            with c, pytest.raises(ssl.SSLCertVerificationError):
                c.write(b"the first write runs the handshake")

    goroutines.run(main)


def test_tls_read_deadline_and_close_wake_a_reader(cert: tuple[Path, Path]) -> None:
    server_ctx, client_ctx = contexts(cert)

    def main() -> None:
        errors: Chan[BaseException] = Chan(10)
        with net.listen("tcp", "127.0.0.1:0") as ln:
            go(tls_echo, ln, server_ctx, errors)
            c = net.tls_client(net.dial("tcp", ln.addr), client_ctx, "localhost")
            c.handshake()
            c.set_read_deadline(now() + 0.03)
            with pytest.raises(DeadlineExceeded):
                c.read(10)
            c.set_read_deadline(None)
            out: Chan[BaseException] = Chan(1)

            def reader() -> None:
                try:
                    c.read(10)
                except NetClosedError as e:
                    out.send(e)

            g = go(reader)
            wait_blocked(g, "IO wait")
            c.close()
            assert isinstance(out.recv(), NetClosedError)

    goroutines.run(main)


def test_tls_close_write_ends_the_peers_stream(cert: tuple[Path, Path]) -> None:
    server_ctx, client_ctx = contexts(cert)

    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln:
            got: Chan[bytes] = Chan(1)

            def server() -> None:
                t = net.tls_server(ln.accept(), server_ctx)
                with t:
                    parts = []
                    while data := t.read(100):
                        parts.append(data)
                    got.send(b"".join(parts))

            go(server)
            with net.tls_client(net.dial("tcp", ln.addr), client_ctx, "localhost") as c:
                c.write(b"last words")
                c.close_write()
                assert got.recv() == b"last words"

    goroutines.run(main)


def test_tls_wrappers_check_their_arguments(cert: tuple[Path, Path]) -> None:
    server_ctx, _ = contexts(cert)

    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln, net.dial("tcp", ln.addr) as c:
            with pytest.raises(TypeError, match="SSLContext"):
                net.tls_client(c, "context")  # type: ignore[arg-type]
            with pytest.raises(TypeError, match="plain Conn"):
                net.tls_server("conn", server_ctx)  # type: ignore[arg-type]

    goroutines.run(main)
