"""Go by Example: Channels, ported (https://gobyexample.com/channels).

Shows: an unbuffered channel connecting two goroutines. The send and the
receive meet: each side blocks until the other is there, so main gets
"ping" without any other synchronization.

This script uses the implicit model: no run() and no main() function. The
script's own code becomes goroutine 1 the first time it uses the runtime,
exactly like Go's main goroutine.

Run: python examples/channels.py
"""

from goroutines import Chan, go

messages = Chan[str]()  # Go: messages := make(chan string)

go(messages.send, "ping")  # Go: go func() { messages <- "ping" }()

msg = messages.recv()  # Go: msg := <-messages
print(msg)
