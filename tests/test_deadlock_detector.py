"""The deadlock detector against threads that act while it looks.

The detector holds the scheduler lock, which keeps idle Ps idle and parked
threads parked, but a running thread can ready a goroutine, wake a parked
thread or start a thread between any two of its lines, and then end. These
tests put a stand-in in the foreign-thread table that, at the moment the
detector asks whether it is alive, lets a real thread do exactly that and
end: deterministic versions of a race seen once in ~600 runs of
test_mutex.py::test_goroutines_and_threads_share_a_mutex under load.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys, threading
    from goroutines import Chan, go, run, sleep
    from goroutines._runtime import sched

    mode = sys.argv[1]


    class EndsWhileLookedAt:
        '''Asked whether it is alive, lets `actor` do its one act and end,
        then says no: a thread that acted and ended between two looks.'''

        def __init__(self, actor, go_on):
            self.actor, self.go_on, self.fired = actor, go_on, False

        def is_alive(self):
            if not self.fired:
                self.fired = True
                self.go_on.set()
                self.actor.join()
            return False


    def uses_the_runtime():
        sched.note_foreign()  # what a plain thread's first runtime call does


    def main():
        b, x, done = Chan(), Chan(), Chan()
        go_on, registered = threading.Event(), threading.Event()

        def g2():
            b.recv()
            done.send("ok")

        def act():
            uses_the_runtime()
            registered.set()
            go_on.wait()
            if mode == "ready":
                b.send(1)  # readies g2
            elif mode == "wake":
                x.send(1)  # wakes the thread parked on x, which sends on b
            else:
                threading.Thread(target=b.send, args=(1,)).start()

        order = []
        if mode == "wake":
            def parked():
                x.recv()
                b.send(1)
            pt = threading.Thread(target=parked, daemon=True)
            pt.start()
            while pt.ident not in sched._parked_threads:
                sleep(0.001)
            order.append(pt.ident)
        actor = threading.Thread(target=act, daemon=True)
        actor.start()
        registered.wait()
        assert actor.ident in sched._foreign_threads
        # The stand-in goes right before the actor: looked at first, it
        # lets the actor act and end before the actor itself is looked at.
        with sched._sched_lock:
            table = dict(sched._foreign_threads)
            sched._foreign_threads.clear()
            for ident in order:
                sched._foreign_threads[ident] = table.pop(ident)
            sched._foreign_threads[-1] = EndsWhileLookedAt(actor, go_on)
            sched._foreign_threads.update(table)
        go(g2)
        print(done.recv())


    run(main)
    """
)


@pytest.mark.parametrize("mode", ["ready", "wake", "start"])
def test_a_thread_that_acts_and_ends_while_the_detector_looks_is_no_deadlock(
    mode: str,
) -> None:
    # ready: it readied a goroutine (its P's inbound queue holds it);
    # wake: it woke a thread parked in the runtime (that thread's token is won);
    # start: it started a thread that has not used the runtime yet.
    for _ in range(5):
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, mode],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "ok\n", proc.stdout
