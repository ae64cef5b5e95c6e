"""Order violation: a field initialized after the goroutine that uses it is started. (racy)"""

from goroutines import Chan, go


class Server:
    def __init__(self) -> None:
        self.handlers: dict[str, str] = {}
        self.done: Chan[None] = Chan()

    def serve(self) -> None:
        print(self.handlers.get("/"))
        self.done.send(None)


s = Server()

go(s.serve)
s.handlers = {"/": "index"}
s.done.recv()
