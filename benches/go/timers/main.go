// Command timers is the Go side of goro's timers bench: 1,000,000
// goroutines each doing time.Sleep of a random 1..100 ms, with the same
// splitmix64 lengths (same seed, same order) as the Rust children.
//
// Usage: timers [--child timers go] <spread|burst> <hold_ms>. It prints one
// "TIMERS ..." line with the same fields as the Rust children. GOMAXPROCS is
// 2 unless the environment sets it.
//
// timers [--child timers go] ticker <ticks> is the 1 ms ticker: one
// goroutine loops time.Sleep(1 ms) <ticks> times and prints one "TICKER ..."
// line with the lateness p50 / p99 / max in µs, as the Rust children do.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	tasks    = 1000000
	seed     = 0x600D5EED
	minUs    = 1000
	maxUs    = 100000
	bucketUs = 100
	buckets  = 100000
)

var (
	asleep    int64
	lateSumUs uint64
	lateMaxUs uint64
	early     uint64
	hist      [buckets]uint32
)

func record(deadline time.Time) {
	late := time.Since(deadline)
	if late < 0 {
		atomic.AddUint64(&early, 1)
		atomic.AddUint32(&hist[0], 1)
		return
	}
	us := uint64(late / time.Microsecond)
	atomic.AddUint64(&lateSumUs, us)
	for {
		old := atomic.LoadUint64(&lateMaxUs)
		if us <= old || atomic.CompareAndSwapUint64(&lateMaxUs, old, us) {
			break
		}
	}
	b := us / bucketUs
	if b >= buckets {
		b = buckets - 1
	}
	atomic.AddUint32(&hist[b], 1)
}

func percentileMs(q float64) float64 {
	var total uint64
	for i := range hist {
		total += uint64(atomic.LoadUint32(&hist[i]))
	}
	want := uint64(float64(total)*q + 0.999999)
	if want == 0 {
		want = 1
	}
	var seen uint64
	for i := range hist {
		seen += uint64(atomic.LoadUint32(&hist[i]))
		if seen >= want {
			return float64(uint64(i+1)*bucketUs) / 1000
		}
	}
	return -1
}

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2)
	}
	args := os.Args[1:]
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: timers [--child timers go] <spread|burst> <hold_ms>")
		os.Exit(2)
	}
	mode, holdArg := args[len(args)-2], args[len(args)-1]
	holdMs, err := strconv.Atoi(holdArg)
	if err != nil {
		panic(err)
	}
	if mode == "ticker" {
		ticker(holdMs)
		return
	}
	burst := mode == "burst"
	if !burst && mode != "spread" {
		panic("unknown mode " + mode)
	}
	hold := time.Duration(holdMs) * time.Millisecond

	// Warm-up: 1,000 short sleeps.
	var warm sync.WaitGroup
	for i := 0; i < 1000; i++ {
		warm.Add(1)
		go func() { time.Sleep(time.Millisecond); warm.Done() }()
	}
	warm.Wait()
	time.Sleep(50 * time.Millisecond)
	rss0 := rssBytes()

	var done sync.WaitGroup
	done.Add(tasks)
	t0 := time.Now()
	base := t0.Add(hold)
	s := uint64(seed)
	for i := 0; i < tasks; i++ {
		s += 0x9E3779B97F4A7C15
		z := s
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		z ^= z >> 31
		d := time.Duration(minUs+z%(maxUs-minUs+1)) * time.Microsecond
		go func() {
			var deadline time.Time
			if burst {
				deadline = base.Add(d)
			} else {
				deadline = time.Now().Add(d)
			}
			atomic.AddInt64(&asleep, 1)
			time.Sleep(time.Until(deadline))
			atomic.AddInt64(&asleep, -1)
			record(deadline)
			done.Done()
		}()
	}
	spawnMs := float64(time.Since(t0)) / 1e6

	memLine := ""
	if burst {
		for atomic.LoadInt64(&asleep) < tasks && time.Now().Before(base) {
			time.Sleep(time.Millisecond)
		}
		registerMs := float64(time.Since(t0)) / 1e6
		n := atomic.LoadInt64(&asleep)
		rss1 := rssBytes()
		perTask := "NaN"
		if n > 0 {
			perTask = fmt.Sprintf("%.1f", float64(rss1-rss0)/float64(n))
		}
		memLine = fmt.Sprintf(" asleep_at_sample=%d register_ms=%.0f rss_delta_mib=%.1f bytes_per_task=%s",
			n, registerMs, float64(rss1-rss0)/1048576, perTask)
	}
	finished := make(chan struct{})
	sampled := make(chan [2]int64)
	go func() {
		p := atomic.LoadInt64(&asleep)
		r := rssBytes()
		for {
			select {
			case <-finished:
				sampled <- [2]int64{p, r}
				return
			default:
			}
			if a := atomic.LoadInt64(&asleep); a > p {
				p = a
			}
			if x := rssBytes(); x > r {
				r = x
			}
			time.Sleep(time.Millisecond)
		}
	}()
	done.Wait()
	close(finished)
	ps := <-sampled
	peak, peakRss := ps[0], ps[1]
	wallMs := float64(time.Since(t0)) / 1e6
	drainMs := "NaN"
	if burst {
		drainMs = fmt.Sprintf("%.0f", float64(time.Since(base))/1e6)
	}
	meanMs := float64(atomic.LoadUint64(&lateSumUs)) / tasks / 1e3
	fmt.Printf("TIMERS rt=go mode=%s tasks=%d mean_late_ms=%.3f p50_late_ms=%.1f p99_late_ms=%.1f max_late_ms=%.1f early=%d spawn_ms=%.0f wall_ms=%.0f drain_ms=%s peak_asleep=%d peak_rss_delta_mib=%.1f peak_rss_per_task_b=%.1f%s\n",
		mode, tasks, meanMs, percentileMs(0.5), percentileMs(0.99),
		float64(atomic.LoadUint64(&lateMaxUs))/1e3, atomic.LoadUint64(&early),
		spawnMs, wallMs, drainMs, peak, float64(peakRss-rss0)/1048576,
		float64(peakRss-rss0)/tasks, memLine)
}

// ticker runs a goroutine that sleeps 1 ms n times and prints its
// lateness percentiles.
func ticker(n int) {
	late := make([]int64, 0, n)
	early := 0
	done := make(chan struct{})
	go func() {
		for i := 0; i < n; i++ {
			deadline := time.Now().Add(time.Millisecond)
			time.Sleep(time.Millisecond)
			l := time.Since(deadline)
			if l < 0 {
				early++
				l = 0
			}
			late = append(late, int64(l/time.Microsecond))
		}
		close(done)
	}()
	<-done
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	q := func(f float64) int64 { return late[int(float64(len(late)-1)*f)] }
	fmt.Printf("TICKER rt=go ticks=%d p50_us=%d p99_us=%d max_us=%d early=%d\n",
		n, q(0.5), q(0.99), late[len(late)-1], early)
}
