// Command blocking_stall is the Go side of goro's blocking_stall bench, the
// issue-18 shape: a ticker looping time.Sleep(1 ms) and recording how late
// each wake is, a spawner starting 1,000 no-op goroutines then sleeping
// 1 ms, and (scenario) a blocker holding its thread 10 times for 100 ms
// (time.Sleep in a syscall-free loop is not blocking in Go, so the hold is a
// blocking syscall: nanosleep through syscall.Syscall, or a busy loop),
// sleeping 10 ms between holds.
//
// Usage: blocking_stall [--child stall go] <scenario> <placement>, scenario
// one of go-none, go-one, go-one-spin; placement is ignored (Go places
// goroutines itself). It prints one "STALL ..." line with the same fields as
// the Rust children. GOMAXPROCS is 2 unless the environment sets it.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const (
	holds = 10
	hold  = 100 * time.Millisecond
	gap   = 10 * time.Millisecond
)

// blockInKernel holds the thread in a nanosleep syscall, as
// std::thread::sleep does in the Rust children.
func blockInKernel(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		_, _, e := syscall.Syscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), uintptr(unsafe.Pointer(&ts)), 0)
		if e != syscall.EINTR {
			return
		}
	}
}

func spin(d time.Duration) {
	start := time.Now()
	for time.Since(start) < d {
	}
}

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2)
	}
	args := os.Args[1:]
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: blocking_stall [--child stall go] <scenario> <placement>")
		os.Exit(2)
	}
	scenario := args[len(args)-2]
	var stop atomic.Bool
	var spawned atomic.Int64
	go func() {
		for !stop.Load() {
			for i := 0; i < 1000; i++ {
				go func() { spawned.Add(1) }()
			}
			time.Sleep(time.Millisecond)
		}
	}()
	done := make(chan struct{})
	switch scenario {
	case "go-none":
		go func() { time.Sleep(holds * (hold + gap)); close(done) }()
	case "go-one", "go-one-spin":
		go func() {
			for i := 0; i < holds; i++ {
				if scenario == "go-one" {
					blockInKernel(hold)
				} else {
					spin(hold)
				}
				time.Sleep(gap)
			}
			close(done)
		}()
	default:
		fmt.Fprintln(os.Stderr, "unknown scenario", scenario)
		os.Exit(2)
	}
	late := []int64{}
	start := time.Now()
loop:
	for {
		select {
		case <-done:
			break loop
		default:
		}
		deadline := time.Now().Add(time.Millisecond)
		time.Sleep(time.Millisecond)
		l := time.Since(deadline)
		if l < 0 {
			l = 0
		}
		late = append(late, int64(l/time.Microsecond))
	}
	stop.Store(true)
	window := time.Since(start)
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	q := func(p float64) float64 {
		i := int(float64(len(late))*p+0.999999) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(late) {
			i = len(late) - 1
		}
		return float64(late[i]) / 1e3
	}
	var sum int64
	for _, v := range late {
		sum += v
	}
	fmt.Printf("STALL rt=go scenario=%s placement=go ticks=%d max_ms=%.2f p99_ms=%.2f p50_ms=%.2f mean_ms=%.3f window_s=%.2f spawned=%d\n",
		scenario, len(late), q(1.0), q(0.99), q(0.5), float64(sum)/float64(len(late))/1e3, window.Seconds(), spawned.Load())
}
