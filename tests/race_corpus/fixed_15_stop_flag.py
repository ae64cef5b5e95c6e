"""A stop flag written by main, polled by a worker without synchronization (fix: close a channel). (fixed)"""

from goroutines import Chan, go, gosched, recv, select


class Flag:
    running = True


stop: Chan[None] = Chan()
done: Chan[None] = Chan()


def worker() -> None:
    while True:
        i, _ = select(recv(stop), default=True)
        if i == 0:
            break
        gosched()
    done.send(None)


go(worker)
gosched()
stop.close()
done.recv()
