// Command reference runs one benchmark workload (W1-W9) in Go and prints its
// raw measurements as one JSON object, as bench/cell.py does for Python:
//
//	reference -w W2 -n 100000   ->   {"seconds": 0.012}
//
// bench/run.py builds it when a Go toolchain is on PATH and runs every cell
// with GOMAXPROCS=1, so Go's scheduler gets one P, as goroutines has today.
// The programs are in workloads.go.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
)

var workloads = map[string]func(n int) map[string]float64{
	"W1":      spawn,
	"W2":      pingPong,
	"W3":      buffered,
	"W4-10k":  daisyChain,
	"W4-100k": daisyChain,
	"W5":      primeSieve,
	"W6":      selectFanIn,
	"W7":      workerPool,
	"W8":      memory,
	"W9":      timers,
}

func main() {
	w := flag.String("w", "", "workload: W1, W2, ..., W4-10k, W4-100k, ..., W9")
	n := flag.Int("n", 0, "size")
	flag.Parse()
	run, ok := workloads[*w]
	if !ok || *n <= 0 {
		fmt.Fprintf(os.Stderr, "usage: reference -w WORKLOAD -n N (unknown workload %q or n %d)\n", *w, *n)
		os.Exit(2)
	}
	out, err := json.Marshal(run(*n))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
}

// check panics (exit status 2) when a workload computed the wrong result.
func check(workload, what string, got, want int64) {
	if got != want {
		panic(fmt.Sprintf("%s: %s is %d, expected %d", workload, what, got, want))
	}
}
