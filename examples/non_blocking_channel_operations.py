"""Go by Example: Non-Blocking Channel Operations, ported
(https://gobyexample.com/non-blocking-channel-operations).

Shows: select(..., default=True) never blocks. When no case is ready it
returns (-1, None) at once, like Go's `default:` branch. Works for receives,
sends and several cases together. The send finds nobody receiving on an
unbuffered channel, so it is not ready either. Implicit model: no run().

Run: python examples/non_blocking_channel_operations.py
"""

from goroutines import Chan, recv, select, send

messages = Chan[str]()
signals = Chan[bool]()

match select(recv(messages), default=True):
    case (0, msg):
        print("received message", msg)
    case (-1, _):
        print("no message received")

msg = "hi"
match select(send(messages, msg), default=True):
    case (0, _):
        print("sent message", msg)
    case (-1, _):
        print("no message sent")

match select(recv(messages), recv(signals), default=True):
    case (0, msg):
        print("received message", msg)
    case (1, sig):
        print("received signal", sig)
    case (-1, _):
        print("no activity")
