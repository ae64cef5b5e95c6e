"""Go by Example: Closing Channels, ported
(https://gobyexample.com/closing-channels).

Shows: closing a channel tells its receivers "no more values". The worker
reads with recv_ok() (Go's `j, more := <-jobs`) and stops when the flag
turns False; a receive from a closed, drained channel returns at once with
(None, False): None is the zero value here.

Run: python examples/closing_channels.py
"""

from goroutines import Chan, go, run


def main() -> None:
    jobs = Chan[int](5)
    done = Chan[bool]()

    def worker() -> None:
        while True:
            j, more = jobs.recv_ok()
            if more:
                print("received job", j)
            else:
                print("received all jobs")
                done.send(True)
                return

    go(worker)

    for j in range(1, 4):
        jobs.send(j)
        print("sent job", j)
    jobs.close()
    print("sent all jobs")

    done.recv()

    _, ok = jobs.recv_ok()
    print("received more jobs:", ok)


if __name__ == "__main__":
    run(main)
