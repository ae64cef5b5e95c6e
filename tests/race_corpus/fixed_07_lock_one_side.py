"""A lock held by the writer only; the reader reads without it. (fixed)"""

from goroutines import Mutex, WaitGroup


class Account:
    def __init__(self) -> None:
        self.mu = Mutex()
        self.balance = 0

    def deposit(self, n: int) -> None:
        with self.mu:
            self.balance += n

    def read(self) -> int:
        with self.mu:
            return self.balance


acct = Account()
wg = WaitGroup()
wg.go(acct.deposit, 10)
wg.go(lambda: print(acct.read()))
wg.wait()
