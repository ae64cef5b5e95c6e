"""A lock held by the writer only; the reader reads without it. (racy)"""

from goroutines import Mutex, WaitGroup, gosched


class Account:
    def __init__(self) -> None:
        self.mu = Mutex()
        self.balance = 0

    def deposit(self, n: int) -> None:
        with self.mu:
            self.balance += n

    def read(self) -> int:
        gosched()
        return self.balance


acct = Account()
wg = WaitGroup()
wg.go(acct.deposit, 10)
wg.go(lambda: print(acct.read()))
wg.wait()
