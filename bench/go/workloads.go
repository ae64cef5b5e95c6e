package main

import (
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	producers = 4     // W6
	workers   = 8     // W7
	buffer    = 128   // W3, W7
	sleepMax  = 0.050 // W9: seconds
	seed      = 20240601
)

func seconds(t0 time.Time) map[string]float64 {
	return map[string]float64{"seconds": time.Since(t0).Seconds()}
}

// W1: n goroutines that each just finish.
func spawn(n int) map[string]float64 {
	var counter int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			atomic.AddInt64(&counter, 1)
			wg.Done()
		}()
	}
	wg.Wait()
	r := seconds(t0)
	check("W1", "goroutines finished", counter, int64(n))
	return r
}

// W2: n round trips over two unbuffered channels.
func pingPong(n int) map[string]float64 {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	var total int64
	t0 := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		total += int64(<-pong)
	}
	r := seconds(t0)
	close(ping)
	check("W2", "sum of replies", total, int64(n)*int64(n+1)/2)
	return r
}

// W3: n ints through a buffered channel.
func buffered(n int) map[string]float64 {
	ch := make(chan int, buffer)
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	var total int64
	for v := range ch {
		total += int64(v)
	}
	r := seconds(t0)
	check("W3", "sum received", total, int64(n)*int64(n-1)/2)
	return r
}

// W4: Pike's daisy chain of whispers.
func whisper(left, right chan int) {
	left <- 1 + <-right
}

func daisyChain(n int) map[string]float64 {
	t0 := time.Now()
	leftmost := make(chan int)
	left := leftmost
	for i := 0; i < n; i++ {
		right := make(chan int)
		go whisper(left, right)
		left = right
	}
	go func(c chan int) { c <- 1 }(left)
	result := <-leftmost
	r := seconds(t0)
	check("W4", "whisper", int64(result), int64(n+1))
	return r
}

// W5: the concurrent prime sieve, first n primes.
func generate(ch chan<- int) {
	for i := 2; ; i++ {
		ch <- i
	}
}

func filter(src <-chan int, dst chan<- int, prime int) {
	for i := range src {
		if i%prime != 0 {
			dst <- i
		}
	}
}

func nthPrime(k int) int64 {
	count := 0
	for i := 2; ; i++ {
		isPrime := true
		for d := 2; d*d <= i; d++ {
			if i%d == 0 {
				isPrime = false
				break
			}
		}
		if isPrime {
			count++
			if count == k {
				return int64(i)
			}
		}
	}
}

func primeSieve(n int) map[string]float64 {
	t0 := time.Now()
	ch := make(chan int)
	go generate(ch)
	prime := 0
	for i := 0; i < n; i++ {
		prime = <-ch
		ch1 := make(chan int)
		go filter(ch, ch1, prime)
		ch = ch1
	}
	r := seconds(t0)
	check("W5", "prime", int64(prime), nthPrime(n))
	if n == 1000 {
		check("W5", "1,000th prime", int64(prime), 7919)
	}
	return r
}

// W6: producers × n items, one consumer selecting over their channels.
func selectFanIn(n int) map[string]float64 {
	var chans [producers]chan int
	for k := range chans {
		chans[k] = make(chan int)
	}
	t0 := time.Now()
	for k := range chans {
		go func(ch chan int, first int) {
			for i := first; i < first+n; i++ {
				ch <- i
			}
			close(ch)
		}(chans[k], k*n)
	}
	c0, c1, c2, c3 := chans[0], chans[1], chans[2], chans[3]
	var total, count int64
	live := producers
	for live > 0 {
		var v int
		var ok bool
		select {
		case v, ok = <-c0:
			if !ok {
				c0 = nil
			}
		case v, ok = <-c1:
			if !ok {
				c1 = nil
			}
		case v, ok = <-c2:
			if !ok {
				c2 = nil
			}
		case v, ok = <-c3:
			if !ok {
				c3 = nil
			}
		}
		if ok {
			total += int64(v)
			count++
		} else {
			live--
		}
	}
	r := seconds(t0)
	m := int64(producers * n)
	check("W6", "items received", count, m)
	check("W6", "sum received", total, m*(m-1)/2)
	return r
}

// W7: n small jobs through a pool of workers and a results channel.
func workerPool(n int) map[string]float64 {
	jobs, results := make(chan int, buffer), make(chan int, buffer)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			for j := range jobs {
				results <- j * j
			}
			wg.Done()
		}()
	}
	go func() {
		for j := 0; j < n; j++ {
			jobs <- j
		}
		close(jobs)
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	var total, count int64
	for r := range results {
		total += int64(r)
		count++
	}
	r := seconds(t0)
	nn := int64(n)
	check("W7", "results", count, nn)
	check("W7", "sum of results", total, (nn-1)*nn*(2*nn-1)/6)
	return r
}

// rssBytes reads this process's resident set size from /proc/self/statm.
func rssBytes() float64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	pages, err := strconv.ParseInt(strings.Fields(string(data))[1], 10, 64)
	if err != nil {
		panic(err)
	}
	return float64(pages * int64(os.Getpagesize()))
}

// W8: n goroutines parked in a channel receive; RSS before and after.
func memory(n int) map[string]float64 {
	ch := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	runtime.GC()
	before := rssBytes()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-ch
			finished.Done()
		}()
	}
	started.Wait()
	runtime.Gosched()
	r := seconds(t0)
	r["rss_bytes"] = rssBytes() - before
	close(ch)
	finished.Wait()
	return r
}

// W9: n goroutines each sleeping a random 0-50 ms; wall time and mean overshoot.
func timers(n int) map[string]float64 {
	rng := rand.New(rand.NewSource(seed))
	durations := make([]time.Duration, n)
	for i := range durations {
		durations[i] = time.Duration(rng.Float64() * sleepMax * float64(time.Second))
	}
	overshoots := make([]float64, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i, d := range durations {
		wg.Add(1)
		go func(i int, d time.Duration) {
			start := time.Now()
			time.Sleep(d)
			overshoots[i] = (time.Since(start) - d).Seconds()
			wg.Done()
		}(i, d)
	}
	wg.Wait()
	r := seconds(t0)
	sum := 0.0
	for _, o := range overshoots {
		if o < -1e-3 {
			panic("W9: a sleep returned early")
		}
		sum += o
	}
	r["overshoot_s"] = sum / float64(n)
	return r
}
