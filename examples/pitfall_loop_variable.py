"""Pitfall: a closure started as a goroutine in a loop reads the loop
variable late -- and the fix, passing the value.

Go original: `for _, name := range names { go func() { fmt.Println(name) }() }`,
which printed the last name three times until Go 1.22 gave each iteration
its own variable, and its fix, `go func(name string) { ... }(name)`.

A Python closure reads the variables it uses when it runs, not when it is
made (closures bind late), and a for loop's variable is one variable for
the whole loop. go() only makes the new goroutine runnable: it runs when
the caller parks -- here in wg.wait(), after the loop has finished. So
every goroutine reads the loop variable's last value. Go fixed this in
1.22; Python never will.

The fix: pass the value to the goroutine, wg.go(f, name) (go(f, name)
alike), or bind it when the closure is made: lambda name=name: ....
`python -m goroutines vet` finds the wrong way (code GO102).

Shows: three goroutines that all see the last name, then the fix.

Run: python examples/pitfall_loop_variable.py
     python -m goroutines vet examples/pitfall_loop_variable.py   (GO102, exit 1)
"""

from goroutines import WaitGroup, run

NAMES = ["ann", "bob", "cat"]


def wrong_way() -> list[str]:
    seen: list[str] = []
    wg = WaitGroup()
    for name in NAMES:
        # The mistake: the closure reads `name` when the goroutine runs.
        wg.go(lambda: seen.append(name))  # noqa: B023
    wg.wait()
    return seen


def greet(name: str, seen: list[str]) -> None:
    seen.append(name)


def right_way() -> list[str]:
    seen: list[str] = []
    wg = WaitGroup()
    for name in NAMES:
        wg.go(greet, name, seen)  # the value now, as an argument
    wg.wait()
    return sorted(seen)


if __name__ == "__main__":
    print("WRONG: each goroutine's closure reads the loop variable when it runs")
    print(f"  seen = {run(wrong_way)}")
    print("RIGHT: each goroutine is passed its value")
    print(f"  seen = {run(right_way)}")
