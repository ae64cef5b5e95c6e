"""Go by Example: Range over Channels, ported
(https://gobyexample.com/range-over-channels).

Shows: `for elem in queue` is Go's `for elem := range queue`: it receives
until the channel is closed and drained. Closing a channel that still holds
values is fine; the loop gets them all first. Implicit model: no run().

Run: python examples/range_over_channels.py
"""

from goroutines import Chan

queue = Chan[str](2)
queue.send("one")
queue.send("two")
queue.close()

for elem in queue:
    print(elem)
