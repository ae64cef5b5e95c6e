"""Go by Example: Tickers, ported (https://gobyexample.com/tickers).

Shows: Ticker(d) sends on ticker.c every d seconds until stopped. A
goroutine selects between the ticks and a done channel; main stops the
ticker after 0.35 s, so about three ticks arrive (Go's example: a tick every
500 ms for 1600 ms).

Run: python examples/tickers.py
"""

from goroutines import Chan, Ticker, go, now, recv, run, select, sleep


def main() -> None:
    start = now()
    ticker = Ticker(0.1)
    done = Chan[bool]()

    def report_ticks() -> None:
        while True:
            match select(recv(done), recv(ticker.c)):
                case (0, _):
                    return
                case (1, t):  # t is the now() reading of the tick
                    print(f"Tick at {t - start:.2f}s")

    go(report_ticks)

    sleep(0.35)
    ticker.stop()
    done.send(True)
    print("Ticker stopped")


if __name__ == "__main__":
    run(main)
