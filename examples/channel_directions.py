"""Go by Example: Channel Directions, ported
(https://gobyexample.com/channel-directions).

Shows: a parameter typed SendChan[T] (Go's `chan<- T`) may only send, one
typed RecvChan[T] (Go's `<-chan T`) may only receive. mypy checks this, and
the views from ch.send_only() / ch.recv_only() enforce it at run time too:
a view simply lacks the other direction's methods. A Chan[T] is accepted
wherever either protocol is expected, as Go converts a channel implicitly.

Run: python examples/channel_directions.py
"""

from goroutines import Chan, RecvChan, SendChan, run


def ping(pings: SendChan[str], msg: str) -> None:
    pings.send(msg)


def pong(pings: RecvChan[str], pongs: SendChan[str]) -> None:
    msg = pings.recv()
    pongs.send(msg)


def main() -> None:
    pings = Chan[str](1)
    pongs = Chan[str](1)
    ping(pings, "passed message")  # a Chan passes where a SendChan is expected
    pong(pings.recv_only(), pongs.send_only())  # or hand out explicit views
    print(pongs.recv())

    receive_only = pings.recv_only()
    send_only = pings.send_only()
    print("receive-only view can send:", hasattr(receive_only, "send"))
    print("send-only view can receive:", hasattr(send_only, "recv"))
    print("only the sending side can close:", hasattr(send_only, "close"),
          hasattr(receive_only, "close"))
    print("a view is its channel:", receive_only == pings)


if __name__ == "__main__":
    run(main)
