"""A stop flag written by main, polled by a worker without synchronization (fix: close a channel). (racy)"""

from goroutines import Chan, go, gosched


class Flag:
    running = True


stop: Chan[None] = Chan()
done: Chan[None] = Chan()


def worker() -> None:
    while Flag.running:
        gosched()
    done.send(None)


go(worker)
gosched()
Flag.running = False
done.recv()
