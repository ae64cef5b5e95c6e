// The load generator and the Go reference server of the network benchmarks
// (W13 echo, W15 idle connections; bench/net_run.py runs them).
//
//	netload -mode echo -addr 127.0.0.1:PORT -c 200 -n 500 -size 64
//	    c connections, each n round trips of size bytes, one goroutine per
//	    connection; all connect first, then start together. Prints JSON:
//	    {"seconds": ..., "round_trips": ...}.
//	netload -mode idle -addr 127.0.0.1:PORT -c 10000
//	    c connections, each makes one round trip (so the server holds it in a
//	    read), then prints "ready" and holds them until stdin closes.
//	netload -mode serve -addr 127.0.0.1:0
//	    a Go echo server (the ceiling): prints its port, serves until killed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

func dialAll(addr string, c int) []net.Conn {
	conns := make([]net.Conn, c)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256) // bounded connect concurrency (the backlog)
	var mu sync.Mutex
	var firstErr error
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			conns[i] = conn
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "dial:", firstErr)
		os.Exit(1)
	}
	return conns
}

func roundTrips(conn net.Conn, n int, size int) error {
	out := make([]byte, size)
	in := make([]byte, size)
	for i := range out {
		out[i] = byte('a' + i%26)
	}
	for i := 0; i < n; i++ {
		if _, err := conn.Write(out); err != nil {
			return err
		}
		if _, err := io.ReadFull(conn, in); err != nil {
			return err
		}
	}
	return nil
}

func echo(addr string, c, n, size int) {
	conns := dialAll(addr, c)
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, c)
	for _, conn := range conns {
		wg.Add(1)
		go func(conn net.Conn) {
			defer wg.Done()
			<-start
			if err := roundTrips(conn, n, size); err != nil {
				errs <- err
			}
		}(conn)
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0).Seconds()
	close(errs)
	for err := range errs {
		fmt.Fprintln(os.Stderr, "round trip:", err)
		os.Exit(1)
	}
	for _, conn := range conns {
		conn.Close()
	}
	json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"seconds": elapsed, "round_trips": float64(c * n),
	})
}

func idle(addr string, c int) {
	conns := dialAll(addr, c)
	var wg sync.WaitGroup
	for _, conn := range conns {
		wg.Add(1)
		go func(conn net.Conn) {
			defer wg.Done()
			if err := roundTrips(conn, 1, 1); err != nil {
				fmt.Fprintln(os.Stderr, "round trip:", err)
				os.Exit(1)
			}
		}(conn)
	}
	wg.Wait()
	fmt.Println("ready")
	io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	for _, conn := range conns {
		conn.Close()
	}
}

func serve(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	for {
		conn, err := ln.Accept()
		if err != nil {
			continue
		}
		go func(conn net.Conn) {
			defer conn.Close()
			buf := make([]byte, 65536)
			for {
				k, err := conn.Read(buf)
				if err != nil {
					return
				}
				if _, err := conn.Write(buf[:k]); err != nil {
					return
				}
			}
		}(conn)
	}
}

func main() {
	mode := flag.String("mode", "echo", "echo, idle or serve")
	addr := flag.String("addr", "127.0.0.1:0", "address")
	c := flag.Int("c", 200, "connections")
	n := flag.Int("n", 500, "round trips per connection")
	size := flag.Int("size", 64, "message size")
	flag.Parse()
	switch *mode {
	case "echo":
		echo(*addr, *c, *n, *size)
	case "idle":
		idle(*addr, *c)
	case "serve":
		serve(*addr)
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", *mode)
		os.Exit(2)
	}
}
