package waitgroup_test

// Benchmarks of the package's own costs, each beside a sync.WaitGroup
// baseline doing the nearest equivalent. The comparison with errgroup, conc
// and tomb lives in the separate module in ./bench, so that users of this
// package never download them.

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// nop and nopSync are the trivial tasks of ours and of the baseline.
func nop(context.Context) error { return nil }

func nopSync() {}

// BenchmarkGoWait starts n trivial tasks and waits for them, in a fresh
// group each time; ns/task is the cost per task.
func BenchmarkGoWait(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("n=%d/impl=sync", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var wg sync.WaitGroup
				for range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						nopSync()
					}()
				}
				wg.Wait()
			}
			reportPerTask(b, n)
		})
		b.Run(fmt.Sprintf("n=%d/impl=waitgroup", n), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				var g waitgroup.Group
				for range n {
					g.Go(nop)
				}
				if err := g.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
			reportPerTask(b, n)
		})
	}
}

func reportPerTask(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/task")
}

// BenchmarkAddDone is one Add and its Done on a long-lived group: the cost of
// tracking a unit of work that is not a goroutine of ours.
func BenchmarkAddDone(b *testing.B) {
	b.Run("impl=sync", func(b *testing.B) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		for b.Loop() {
			wg.Add(1)
			wg.Done()
		}
	})
	b.Run("impl=waitgroupNamed", func(b *testing.B) {
		b.ReportAllocs()
		var g waitgroup.Group
		for b.Loop() {
			if err := g.Done(g.Add(waitgroup.Name("x"))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		var g waitgroup.Group
		for b.Loop() {
			if err := g.Done(g.Add()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAddDoneParallel is BenchmarkAddDone from GOMAXPROCS goroutines
// sharing one group: the cost under contention.
func BenchmarkAddDoneParallel(b *testing.B) {
	b.Run("impl=sync", func(b *testing.B) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				wg.Add(1)
				wg.Done()
			}
		})
	})
	b.Run("impl=waitgroupNamed", func(b *testing.B) {
		b.ReportAllocs()
		var g waitgroup.Group
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := g.Done(g.Add(waitgroup.Name("x"))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		var g waitgroup.Group
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := g.Done(g.Add()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkWake measures how long Wait takes to return after the last Done:
// ns/wake runs from just before the Done, in another goroutine, to just after
// Wait returns. The goroutine that calls Done first spins for wakeSpin so that
// the waiter is surely blocked by then; ns/op includes that spin.
func BenchmarkWake(b *testing.B) {
	b.Run("impl=sync", func(b *testing.B) {
		var wg sync.WaitGroup
		benchWake(b, func(kick <-chan struct{}, t0 *time.Time) {
			wg.Add(1)
			go func() {
				<-kick
				spin()
				*t0 = time.Now()
				wg.Done()
			}()
		}, func() { wg.Wait() })
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		var g waitgroup.Group
		ctx := context.Background()
		benchWake(b, func(kick <-chan struct{}, t0 *time.Time) {
			id := g.Add(waitgroup.Name("x"))
			go func() {
				<-kick
				spin()
				*t0 = time.Now()
				_ = g.Done(id)
			}()
		}, func() {
			if err := g.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		})
	})
}

const wakeSpin = 10 * time.Microsecond

func spin() {
	for t := time.Now(); time.Since(t) < wakeSpin; {
	}
}

// benchWake runs start (which adds one unit of work ended by a goroutine
// once kicked, after it sets *t0), kicks, and waits.
func benchWake(b *testing.B, start func(kick <-chan struct{}, t0 *time.Time), wait func()) {
	b.ReportAllocs()
	kick := make(chan struct{})
	var total time.Duration
	for b.Loop() {
		var t0 time.Time
		start(kick, &t0)
		kick <- struct{}{}
		wait()
		total += time.Since(t0)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/wake")
}

// pendingIDs is how many IDs BenchmarkPendingHeap holds at once.
const pendingIDs = 1_000_000

// BenchmarkPendingHeap reports the heap held per pending ID (B/pending) with
// a million IDs pending, named and not. sync.WaitGroup holds only a counter.
func BenchmarkPendingHeap(b *testing.B) {
	n := pendingIDs
	if testing.Short() {
		n = 10_000
	}
	b.Run("impl=sync", func(b *testing.B) {
		var perID float64
		for b.Loop() {
			var wg sync.WaitGroup
			before := heapInUse()
			for range n {
				wg.Add(1)
			}
			perID = float64(heapInUse()-before) / float64(n)
			runtime.KeepAlive(&wg)
			wg.Add(-n)
		}
		b.ReportMetric(perID, "B/pendingID")
	})
	for _, named := range []bool{true, false} {
		var opts []waitgroup.TaskOption
		if named {
			opts = append(opts, waitgroup.Name("x"))
		}
		impl := "impl=waitgroup"
		if named {
			impl = "impl=waitgroupNamed"
		}
		b.Run(impl, func(b *testing.B) {
			ids := make([]waitgroup.ID, n)
			var perID float64
			for b.Loop() {
				g := new(waitgroup.Group)
				g.Pending() // first use: set up the context outside the count
				before := heapInUse()
				for i := range ids {
					ids[i] = g.Add(opts...)
				}
				perID = float64(heapInUse()-before) / float64(n)
				for _, id := range ids {
					if err := g.Done(id); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(perID, "B/pendingID")
		})
	}
}

// heapInUse returns the live heap after a full collection.
func heapInUse() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkTimedOutWait reports the goroutines left running after a Wait
// gave up (goroutines/wait; want 0). The baseline is the usual hand-written
// timeout around sync.WaitGroup.Wait, which leaves one goroutine per call
// until the work is done.
func BenchmarkTimedOutWait(b *testing.B) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	b.Run("impl=sync", func(b *testing.B) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		wg.Add(1)
		var left []chan struct{}
		var leaked int
		for b.Loop() {
			before := runtime.NumGoroutine()
			done := make(chan struct{})
			go func() {
				wg.Wait()
				close(done)
			}()
			select {
			case <-done:
				b.Fatal("Wait returned with work pending")
			case <-ctx.Done():
			}
			leaked += runtime.NumGoroutine() - before
			left = append(left, done)
		}
		wg.Done()
		for _, done := range left {
			<-done
		}
		b.ReportMetric(float64(leaked)/float64(b.N), "goroutines/wait")
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		var g waitgroup.Group
		id := g.Add(waitgroup.Name("x"))
		var leaked int
		for b.Loop() {
			before := runtime.NumGoroutine()
			if err := g.Wait(ctx); err == nil {
				b.Fatal("Wait returned nil with work pending")
			}
			leaked += runtime.NumGoroutine() - before
		}
		if err := g.Done(id); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(leaked)/float64(b.N), "goroutines/wait")
	})
}
