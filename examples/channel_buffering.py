"""Go by Example: Channel Buffering, ported
(https://gobyexample.com/channel-buffering).

Shows: a channel with capacity 2 accepts two sends with nobody receiving
yet; they wait in its buffer, first in first out. A third send would block
until a receiver takes a value. Implicit model: no run() needed.

Run: python examples/channel_buffering.py
"""

from goroutines import Chan

messages = Chan[str](2)  # Go: make(chan string, 2)

messages.send("buffered")  # neither send blocks: the buffer has room
messages.send("channel")
print("len", len(messages), "cap", messages.cap)  # Go: len(messages), cap(messages)

print(messages.recv())
print(messages.recv())
