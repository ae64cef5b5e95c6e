"""Myth: "channels share memory" -- what a channel really hands over.

In Go a send copies the value into the channel. For an int or a struct that
is a true copy; for a slice, map or pointer it is a copy of the header or
pointer, and both sides then reach the same backing memory. Go's advice,
"do not communicate by sharing memory; share memory by communicating", is a
discipline: after sending, the sender stops touching what it sent.

In Python every value is a reference, so a channel hands over a reference
to the very same object, never a copy. Nothing is shared *by the channel*
beyond that object, but that object is fully shared. The program shows:
  1. the receiver gets the same object (`is`), so a mutation by the sender
     after the send is seen by the receiver -- the bug;
  2. ownership transfer: the sender lets go after sending (no more use);
  3. immutable messages (tuples, frozen dataclasses) cannot be changed by
     either side, so sharing them is harmless;
  4. an explicit copy when both sides must keep working on their own data.

Shows: what "share memory by communicating" means when every value is a
reference, and the three safe habits.

Run: python examples/channels_pass_references.py
"""

from dataclasses import FrozenInstanceError, dataclass

from goroutines import Chan, go, run


@dataclass(frozen=True)
class Order:
    item: str
    qty: int


def main() -> None:
    ch = Chan[list[str]](1)

    print("1. a sent list is the same object on both sides")
    batch = ["apples"]
    ch.send(batch)
    received = ch.recv()
    batch.append("pears")  # the sender keeps using what it sent...
    print("   same object:", received is batch, "| receiver sees:", received)

    print("2. ownership transfer: send, then forget")
    ch.send(["plums"])  # no name kept: nobody else can touch it
    print("   receiver owns:", ch.recv())

    print("3. immutable messages are safe to share")
    orders = Chan[Order](1)
    orders.send(Order("figs", 3))
    order = orders.recv()
    assert order is not None
    try:
        order.qty = 30  # type: ignore[misc]
    except FrozenInstanceError:
        print("   Order is frozen: nobody can change it after the send")

    print("4. send a copy when both sides keep working")
    mine = ["kiwis"]
    done = Chan[list[str]]()

    def consumer(c: Chan[list[str]]) -> None:
        theirs = c.recv()
        assert theirs is not None
        theirs.append("limes")
        done.send(theirs)

    c = Chan[list[str]]()
    go(consumer, c)
    c.send(list(mine))  # a copy goes; mine stays mine
    print("   mine:", mine, "| theirs:", done.recv())


if __name__ == "__main__":
    run(main)
