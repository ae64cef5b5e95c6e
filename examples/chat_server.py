"""A chat server: one goroutine per client, one broadcaster, select on
join, leave and message channels (the program of Go's "The Go Programming
Language", section 8.10, written with goroutines.net).

Shows: the broadcaster owns the set of clients (no lock: only it touches
them) and selects over three channels; each connection has a reader
goroutine (lines in, to the broadcaster) and a writer goroutine (its own
outgoing channel, out to the socket), so a slow client never blocks the
others' messages. Three clients join, each says something, each hears the
other two, and they leave.

Run: python examples/chat_server.py
"""

from goroutines import Chan, WaitGroup, go, net, recv, run, select


class Client:
    def __init__(self, name: str) -> None:
        self.name = name
        self.out = Chan[str](16)  # what the writer goroutine sends to the socket


def broadcaster(join: Chan[Client], leave: Chan[Client], messages: Chan[tuple[Client, str]],
                log: Chan[str]) -> None:
    clients: set[Client] = set()
    while True:
        match select(recv(join), recv(leave), recv(messages)):
            case (0, Client() as c):
                clients.add(c)
                log.send(f"{c.name} joined ({len(clients)} online)")
            case (1, Client() as c):
                clients.discard(c)
                c.out.close()  # its writer goroutine ends
                log.send(f"{c.name} left ({len(clients)} online)")
            case (2, (sender, text)):
                for c in clients:
                    if c is not sender:
                        c.out.send(f"{sender.name}: {text}")
            case _:
                return  # the channels were closed: shut down


def handle(conn: net.Conn, join: Chan[Client], leave: Chan[Client],
           messages: Chan[tuple[Client, str]]) -> None:
    with conn:
        buf = b""
        while b"\n" not in buf and (data := conn.read(1024)):
            buf += data
        name, _, buf = buf.partition(b"\n")
        me = Client(name.decode())

        def writer() -> None:
            for line in me.out:
                conn.write(line.encode() + b"\n")

        done = WaitGroup()
        done.go(writer)
        join.send(me)
        while True:
            while b"\n" in buf:
                line, _, buf = buf.partition(b"\n")
                messages.send((me, line.decode()))
            data = conn.read(1024)
            if not data:
                break
            buf += data
        leave.send(me)
        done.wait()


def serve(ln: net.Listener, join: Chan[Client], leave: Chan[Client],
          messages: Chan[tuple[Client, str]]) -> None:
    while True:
        try:
            conn = ln.accept()
        except net.NetClosedError:
            return
        go(handle, conn, join, leave, messages)


def read_lines(c: net.Conn, n: int) -> list[str]:
    buf = b""
    while buf.count(b"\n") < n:
        data = c.read(1024)
        assert data, "the server hung up"
        buf += data
    return buf.decode().splitlines()


def main() -> None:
    join, leave = Chan[Client](), Chan[Client]()
    messages = Chan[tuple[Client, str]]()
    log = Chan[str](16)
    go(broadcaster, join, leave, messages, log)
    ln = net.listen("tcp", "127.0.0.1:0")
    go(serve, ln, join, leave, messages)

    names = ["alice", "bob", "carol"]
    conns = {}
    for name in names:  # one at a time, so the joins are logged in this order
        conns[name] = net.dial("tcp", ln.addr)
        conns[name].write(name.encode() + b"\n")
        print(log.recv())
    for name in names:
        conns[name].write(f"hello from {name}\n".encode())
    heard = {name: sorted(read_lines(conns[name], 2)) for name in names}
    for name in names:
        print(f"{name} heard: {heard[name]}")
    for name in names:
        conns[name].close()
        print(log.recv())
    ln.close()


if __name__ == "__main__":
    run(main)
