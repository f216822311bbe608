package waitgroup_test

// Benchmarks of the timing targets of issue 8 at scale. Must hold 1, here:
// how soon a Wait gives up once its context ends, with a million pending
// IDs or a wide tree of Subs under churn, and graceful.Run's shutdown.
// Must hold 2, the cost of an idle Wait on deep and wide trees, is in
// scale_idle_bench_test.go; the memory targets (3 and 5) in
// scale_mem_bench_test.go; the cost targets of 5 (Go+Wait, Add+Done) in
// bench_test.go and, beside errgroup, in ./bench. Correctness at these
// scales is tested in scale_test.go: here nothing is asserted about time.
//
// Every benchmark uses only the public API, and its helpers are named
// scale…, so that bench/compare.sh can compile this file against older
// revisions of the package too.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/graceful"
)

// scaleSize returns n, or n/100 with -short, for a quick look.
func scaleSize(n int) int {
	if testing.Short() {
		return max(n/100, 1)
	}
	return n
}

// scaleMS converts d to milliseconds, the unit of the latency metrics.
func scaleMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// A scaleLateness sums how late each Wait returned after its deadline.
type scaleLateness struct {
	sum, max time.Duration
}

func (l *scaleLateness) add(d time.Duration) {
	l.sum += d
	l.max = max(l.max, d)
}

// report reports the mean and the worst lateness of b's iterations.
func (l *scaleLateness) report(b *testing.B, name string) {
	b.ReportMetric(scaleMS(l.sum)/float64(b.N), name)
	b.ReportMetric(scaleMS(l.max), "max-"+name)
}

// A scaleChurner calls op in a loop on a goroutine of its own, pausing
// between calls, and times each call, until stopped: the other user of a
// group that a slow give-up would stall.
type scaleChurner struct {
	stop    atomic.Bool
	longest time.Duration
	wg      sync.WaitGroup
}

// scaleChurn starts a churner and returns once op has run once, so that the
// churn surely overlaps whatever the caller does next.
func scaleChurn(op func(), pause time.Duration) *scaleChurner {
	c := &scaleChurner{}
	started := make(chan struct{})
	c.wg.Go(func() {
		for first := true; !c.stop.Load(); first = false {
			t0 := time.Now()
			op()
			c.longest = max(c.longest, time.Since(t0))
			if first {
				close(started)
			}
			if pause > 0 {
				time.Sleep(pause)
			}
		}
	})
	<-started
	return c
}

// end stops the churner and returns its longest call.
func (c *scaleChurner) end() time.Duration {
	c.stop.Store(true)
	c.wg.Wait()
	return c.longest
}

// scaleCheckGaveUp fails b unless err is the give-up of a Wait with at
// least total tasks pending.
func scaleCheckGaveUp(b *testing.B, err error, total int) {
	var we *waitgroup.WaitError
	if !errors.As(err, &we) || !errors.Is(err, context.DeadlineExceeded) || we.Total < total {
		b.Fatalf("Wait = %v, want a give-up with at least %d pending", err, total)
	}
}

// BenchmarkGiveUp times Waits that give up, 1 ms after they start, on a
// group with n IDs pending, while another goroutine does Add+Done on the
// same group back to back. ms-after-deadline runs from the deadline to
// Wait's return (target: under 20 ms at a million), max-stall-ms is the
// longest single Add+Done of that goroutine over the run (target: under
// 10 ms). pending=1 is the reference: the give-up should not grow with n.
func BenchmarkGiveUp(b *testing.B) {
	for _, n := range []int{1, scaleSize(1_000_000)} {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			g := waitgroup.New(waitgroup.GroupName("stuck"))
			ids := make([]waitgroup.ID, n)
			for i := range ids {
				ids[i] = g.Add()
			}
			var late scaleLateness
			var stall time.Duration
			for b.Loop() {
				churn := scaleChurn(func() { _ = g.Done(g.Add()) }, 0)
				deadline := time.Now().Add(time.Millisecond)
				ctx, cancel := context.WithDeadline(context.Background(), deadline)
				err := g.Wait(ctx)
				late.add(time.Since(deadline))
				stall = max(stall, churn.end())
				cancel()
				scaleCheckGaveUp(b, err, n)
			}
			late.report(b, "ms-after-deadline")
			b.ReportMetric(scaleMS(stall), "max-stall-ms")
			for _, id := range ids {
				if err := g.Done(id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSubsChurn times Waits with a 50 ms deadline on a group with
// 30 000 Subs while another goroutine (churn=true) does Add+Done on a
// random Sub about every 100 µs, each making its Sub busy and idle again.
// With stuck=true one Sub holds a pending ID, so Wait must give up; with
// stuck=false the tree is done between two Add+Done, so Wait may return nil
// at once, and must return by the deadline in any case (a Wait that walked
// the tree until two walks agreed, without looking at its ctx, took seconds
// here). ms-after-deadline is how long after the deadline Wait returned, 0
// if before (target: under 20 ms); max-stall-ms is the churner's longest
// Add+Done; ns/op is the whole Wait.
func BenchmarkSubsChurn(b *testing.B) {
	n := scaleSize(30_000)
	for _, c := range []struct{ churn, stuck bool }{{false, true}, {true, true}, {true, false}} {
		b.Run(fmt.Sprintf("subs=%d/churn=%v/stuck=%v", n, c.churn, c.stuck), func(b *testing.B) {
			b.ReportAllocs()
			g := waitgroup.New()
			subs := make([]*waitgroup.Group, n)
			for i := range subs {
				subs[i] = g.Sub()
			}
			var stuck waitgroup.ID
			if c.stuck {
				stuck = subs[n/2].Add(waitgroup.Name("stuck"))
			}
			var late scaleLateness
			var stall time.Duration
			for b.Loop() {
				var churn *scaleChurner
				if c.churn {
					churn = scaleChurn(func() {
						s := subs[rand.IntN(n)]
						_ = s.Done(s.Add())
					}, 100*time.Microsecond)
				}
				deadline := time.Now().Add(50 * time.Millisecond)
				ctx, cancel := context.WithDeadline(context.Background(), deadline)
				err := g.Wait(ctx)
				late.add(max(time.Since(deadline), 0))
				if churn != nil {
					stall = max(stall, churn.end())
				}
				cancel()
				if c.stuck {
					scaleCheckGaveUp(b, err, 1)
				} else if err != nil {
					scaleCheckGaveUp(b, err, 0) // no moment was seen done
				}
			}
			late.report(b, "ms-after-deadline")
			if c.churn {
				b.ReportMetric(scaleMS(stall), "max-stall-ms")
			}
			if c.stuck {
				if err := subs[n/2].Done(stuck); err != nil {
					b.Fatal(err)
				}
			}
			if err := g.Wait(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkGracefulShutdown runs graceful.Run with a 200 ms shutdown
// timeout, a million IDs that never end and one task that ends when
// cancelled, and signals it as soon as start returns. ms-after-deadline
// runs from the end of the shutdown timeout to Run's return (target: under
// 20 ms); ms-to-cancel from the signal to the task's context being done
// (target: before anything is counted for the log, so near 0 with the
// Logger too). ns/op runs from the signal to Run's return: the Adds are
// not timed.
func BenchmarkGracefulShutdown(b *testing.B) {
	const timeout = 200 * time.Millisecond
	n := scaleSize(1_000_000)
	for _, logged := range []bool{false, true} {
		b.Run(fmt.Sprintf("pending=%d/logger=%v", n, logged), func(b *testing.B) {
			b.ReportAllocs()
			opts := []graceful.Option{graceful.ShutdownTimeout(timeout)}
			if logged {
				opts = append(opts, graceful.Logger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			}
			var late scaleLateness
			var toCancel time.Duration
			for b.Loop() {
				sig := make(chan os.Signal, 1)
				cancelled := make(chan time.Time, 1)
				var begin time.Time
				err := graceful.Run(context.Background(), func(g *waitgroup.Group) error {
					b.StopTimer()
					for range n {
						_ = g.Add() // never done: Run must give up on them
					}
					g.Go(func(ctx context.Context) error {
						<-ctx.Done()
						cancelled <- time.Now()
						return nil
					}, waitgroup.Name("cancellable"))
					b.StartTimer()
					begin = time.Now()
					sig <- os.Interrupt
					return nil
				}, append(opts, graceful.Signals(sig))...)
				late.add(time.Since(begin) - timeout)
				if !errors.Is(err, graceful.ErrTimeout) {
					b.Fatalf("Run = %.300v, want a timeout", err)
				}
				// Run cancels the group on every path before it returns;
				// an older Run did so only after counting the pending.
				toCancel += (<-cancelled).Sub(begin)
			}
			late.report(b, "ms-after-deadline")
			b.ReportMetric(scaleMS(toCancel)/float64(b.N), "ms-to-cancel")
		})
	}
}
