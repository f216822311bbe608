package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestPeersRunEveryTask checks that each peer's workload runs every task
// once, waits for all of them, and reports their errors: a benchmark of a
// workload that skips work would be meaningless.
func TestPeersRunEveryTask(t *testing.T) {
	for _, p := range Peers {
		for _, n := range []int{1, 100, 1000} {
			for _, fail := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/n=%d/fail=%v", p.Name, n, fail), func(t *testing.T) {
					var started, finished atomic.Int64
					var want error
					if fail {
						want = ErrTask
					}
					task := NewTask(func() {
						started.Add(1)
						runtime.Gosched() // let Wait block on some
						finished.Add(1)
					}, want)
					err := p.GoWait(n, task)
					if got := finished.Load(); got != int64(n) {
						t.Errorf("%d tasks finished before GoWait returned, want %d", got, n)
					}
					if got := started.Load(); got != int64(n) {
						t.Errorf("%d tasks started, want %d", got, n)
					}
					if fail && !errors.Is(err, ErrTask) {
						t.Errorf("GoWait = %v, want %v", err, ErrTask)
					}
					if !fail && err != nil {
						t.Errorf("GoWait = %v, want nil", err)
					}
				})
			}
		}
	}
}

// TestTimedOutWait checks the figures BenchmarkTimedOutWait reports: the
// hand-written select around sync.WaitGroup.Wait leaves one goroutine per
// timed-out Wait, tomb's Dead channel and waitgroup's Wait(ctx) none.
func TestTimedOutWait(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	want := map[string]int{"sync": 10, "tomb": 0, "waitgroup": 0}
	for name, tw := range timedWaiters {
		// Goroutines of earlier tests may still be exiting and skew a
		// count: one exact count out of three attempts is enough.
		var left int
		for range 3 {
			var cleanup func()
			left, cleanup = timedOutWaitsLeft(ctx, tw, 10)
			cleanup()
			if left == want[name] {
				break
			}
		}
		if left != want[name] {
			t.Errorf("%s: %d goroutines left after 10 timed-out Waits, want %d", name, left, want[name])
		}
	}
}

// TestAddDonePeers checks that every Add/Done equivalent can run many times,
// and concurrently, and be waited for.
func TestAddDonePeers(t *testing.T) {
	for _, p := range addDonePeers {
		t.Run(p.name, func(t *testing.T) {
			op, wait := p.setup()
			done := make(chan struct{})
			for range 2 {
				go func() {
					defer func() { done <- struct{}{} }()
					for range 1000 {
						op()
					}
				}()
			}
			<-done
			<-done
			wait()
		})
	}
}
