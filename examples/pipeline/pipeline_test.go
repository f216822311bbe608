package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup/waitgrouptest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func count(n int) []int {
	in := make([]int, n)
	for i := range in {
		in[i] = i + 1
	}
	return in
}

// gauge counts the calls of f running at once, and the most seen.
type gauge struct{ now, max, calls atomic.Int64 }

func (g *gauge) enter() {
	g.calls.Add(1)
	n := g.now.Add(1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (g *gauge) leave() { g.now.Add(-1) }

// TestPipelineLimit proves that every input is processed once, results come
// back in input order, and no more than limit calls run at once, while the
// limit is used in full: 10 one-second calls, 3 at a time, take 4 seconds.
func TestPipelineLimit(t *testing.T) {
	for _, limit := range []int{1, 3, 10} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var gg gauge
				begin := time.Now()
				got, err := Pipeline(t.Context(), count(10), limit, func(ctx context.Context, in int) (int, error) {
					gg.enter()
					defer gg.leave()
					return in * 10, work(ctx, time.Second)
				})
				if err != nil {
					t.Fatal(err)
				}
				var want []Result
				for _, in := range count(10) {
					want = append(want, Result{in, in * 10})
				}
				if !slices.Equal(got, want) {
					t.Errorf("results %v, want %v", got, want)
				}
				if m := gg.max.Load(); m != int64(limit) {
					t.Errorf("at most %d calls at once, want %d", m, limit)
				}
				if took, want := time.Since(begin), time.Duration((10+limit-1)/limit)*time.Second; took != want {
					t.Errorf("took %v, want %v", took, want)
				}
			})
		})
	}
}

// TestPipelineStopsOnFirstError proves that one failure stops the pipeline
// at once: the other calls are cancelled (none runs to its end), the
// producer starts hardly any more, and the error is the failure itself, not
// the cancellations it caused.
func TestPipelineStopsOnFirstError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errBad := errors.New("bad input")
		var gg gauge
		var finished atomic.Int64
		begin := time.Now()
		_, err := Pipeline(t.Context(), count(100), 4, func(ctx context.Context, in int) (int, error) {
			gg.enter()
			defer gg.leave()
			if in == 2 {
				return 0, errBad
			}
			if err := work(ctx, time.Hour); err != nil {
				return 0, err
			}
			finished.Add(1)
			return in, nil
		})
		if !errors.Is(err, errBad) || err.Error() != "input 2: bad input" {
			t.Fatalf("err = %v, want exactly the failure of input 2", err)
		}
		if took := time.Since(begin); took != 0 {
			t.Errorf("took %v after the failure, want 0", took)
		}
		if n := finished.Load(); n != 0 {
			t.Errorf("%d calls ran to their end after the failure", n)
		}
		// The first 4 start before the failure; a fifth, for which the
		// producer waits inside Go, sees the cancellation and does not
		// call f. (The core frees a slot a moment before it cancels, so
		// rarely f is called for it too: hence 5, not 4.)
		if n := gg.calls.Load(); n > 5 {
			t.Errorf("%d of 100 calls started, want the pipeline stopped after about 4", n)
		}
	})
}

// TestPipelineCallerCancels proves that the caller's deadline stops the
// pipeline with the deadline's error, and that it leaves no goroutine
// behind: waitgrouptest.Run checks it.
func TestPipelineCallerCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
		defer cancel()
		var gg gauge
		_, err := Pipeline(ctx, count(100), 5, func(ctx context.Context, in int) (int, error) {
			gg.enter()
			defer gg.leave()
			return in, work(ctx, time.Second)
		})
		if err != context.DeadlineExceeded {
			t.Fatalf("err = %v, want context.DeadlineExceeded itself", err)
		}
		// Two full rounds of 5, and a third cut short by the deadline.
		if n := gg.calls.Load(); n != 15 {
			t.Errorf("%d calls started, want 15", n)
		}
	})
}

// TestPipelineStopLeavesNothing runs the pipeline as a service under
// waitgrouptest and stops it half way: it must return within the deadline
// and leave no goroutine running.
func TestPipelineStopLeavesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := waitgrouptest.Run(t, func(ctx context.Context) error {
			_, err := Pipeline(ctx, count(1000), 8, func(ctx context.Context, in int) (int, error) {
				return in, work(ctx, time.Second)
			})
			return err
		}, waitgrouptest.Timeout(time.Second))
		time.Sleep(10 * time.Second)
		s.Stop()
	})
}

// TestDemo checks the command's output, which must not vary between runs.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString("squares, 3 workers:\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&want, "  %2d -> %3d\n", i, i*i)
	}
	want.WriteString("one input fails: stopped with: input 7: sensor offline\n")
	want.WriteString("deadline passes: stopped with: context deadline exceeded\n")
	if out.String() != want.String() {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want.String())
	}
}
