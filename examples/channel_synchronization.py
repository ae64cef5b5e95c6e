"""Go by Example: Channel Synchronization, ported
(https://gobyexample.com/channel-synchronization).

Shows: a channel used only to say "I'm done". main blocks on the receive
until the worker sends. Delete the done.recv() line and main returns at
once: run() then ends the worker before it prints "done" (Go would simply
exit). pitfall_main_exits_early.py shows that mistake and its fix.

Run: python examples/channel_synchronization.py
"""

from goroutines import Chan, SendChan, go, run, sleep


def worker(done: SendChan[bool]) -> None:
    print("working...", end="", flush=True)
    sleep(0.1)
    print("done")
    done.send(True)  # tell main we are finished


def main() -> None:
    done = Chan[bool](1)
    go(worker, done)
    done.recv()  # block until the worker says it is done


if __name__ == "__main__":
    run(main)
