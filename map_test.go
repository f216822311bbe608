package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

var errItem = errors.New("bad item")

// nilContext is a nil context for the misuse tests (a literal nil is what
// vet tools flag).
var nilContext context.Context

// panicsWith runs f and fails t unless it panics with a "waitgroup: "
// message containing want.
func panicsWith(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		msg, _ := recover().(string)
		if !strings.HasPrefix(msg, "waitgroup: ") || !strings.Contains(msg, want) {
			t.Errorf("panic %q, want a waitgroup: panic containing %q", msg, want)
		}
	}()
	f()
}

// taskErrors returns the *TaskErrors in err (a *TaskError or a join of them)
// and fails t on anything else.
func taskErrors(t *testing.T, err error) []*waitgroup.TaskError {
	t.Helper()
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []*waitgroup.TaskError
	for _, e := range errs {
		te, ok := e.(*waitgroup.TaskError)
		if !ok {
			t.Fatalf("error %T %q in %q is not a *TaskError", e, e, err)
		}
		out = append(out, te)
	}
	return out
}

func indexes(tes []*waitgroup.TaskError) []int {
	var out []int
	for _, te := range tes {
		out = append(out, te.Index)
	}
	return out
}

func TestMapValuesInItemOrder(t *testing.T) {
	items := make([]int, 100)
	for i := range items {
		items[i] = i
	}
	for _, tt := range []struct {
		name string
		opts []waitgroup.Option
	}{
		{"no limit", nil},
		{"Limit(1)", []waitgroup.Option{waitgroup.Limit(1)}},
		{"Limit(3)", []waitgroup.Option{waitgroup.Limit(3)}},
		{"Limit(-1)", []waitgroup.Option{waitgroup.Limit(-1)}},
		{"Limit(1000)", []waitgroup.Option{waitgroup.Limit(1000)}},
		{"Limit(2) then Limit(-1)", []waitgroup.Option{waitgroup.Limit(2), waitgroup.Limit(-1)}},
	} {
		opts := tt.opts
		t.Run(tt.name, func(t *testing.T) {
			var calls [100]atomic.Int32
			out, err := waitgroup.Map(context.Background(), items, func(ctx context.Context, i int) (string, error) {
				calls[i].Add(1)
				if i%7 == 0 {
					runtime.Gosched() // let later items end first
				}
				if i%10 == 3 {
					return fmt.Sprint("partial ", i), fmt.Errorf("item %d: %w", i, errItem)
				}
				return fmt.Sprint(i * i), nil
			}, opts...)
			for i, got := range out {
				want := fmt.Sprint(i * i)
				if i%10 == 3 {
					want = fmt.Sprint("partial ", i)
				}
				if got != want {
					t.Errorf("out[%d] = %q, want %q", i, got, want)
				}
				if n := calls[i].Load(); n != 1 {
					t.Errorf("f called %d times for item %d", n, i)
				}
			}
			if len(out) != len(items) {
				t.Fatalf("len(out) = %d, want %d", len(out), len(items))
			}
			tes := taskErrors(t, err)
			if got, want := indexes(tes), []int{3, 13, 23, 33, 43, 53, 63, 73, 83, 93}; !slices.Equal(got, want) {
				t.Errorf("failed indexes %v, want %v (in item order)", got, want)
			}
			if !errors.Is(err, errItem) {
				t.Errorf("errors.Is(%v, errItem) = false", err)
			}
		})
	}
}

// TestMapProperty fails random items, some by panicking, at random limits,
// and checks out[i] for every i: the case conc's iter.Map gets wrong (a
// result dropped after a failed task).
func TestMapProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := range 200 {
		n := rng.IntN(200)
		fails := map[int]bool{}
		panics := map[int]bool{}
		for range rng.IntN(n/4 + 1) {
			i := rng.IntN(n + 1)
			if rng.IntN(3) == 0 {
				panics[i] = true
			} else {
				fails[i] = true
			}
		}
		var opts []waitgroup.Option
		if l := rng.IntN(10); l > 0 {
			opts = append(opts, waitgroup.Limit(l))
		}
		cancelOnError := rng.IntN(3) == 0
		if cancelOnError {
			opts = append(opts, waitgroup.CancelOnError())
		}
		items := make([]int, n)
		for i := range items {
			items[i] = i
		}
		called := make([]atomic.Bool, n)
		out, err := waitgroup.Map(context.Background(), items, func(ctx context.Context, i int) (int, error) {
			called[i].Store(true)
			if i%3 == 0 {
				runtime.Gosched()
			}
			switch {
			case panics[i]:
				panic(fmt.Sprint("item ", i))
			case fails[i]:
				return -i - 1, errItem
			}
			return i + 1, nil
		}, opts...)
		var wantIdx []int
		for i := range n {
			want := i + 1
			switch {
			case !called[i].Load():
				// Only CancelOnError leaves items out, after a failure.
				want = 0
				if !cancelOnError || err == nil {
					t.Fatalf("round %d (seed %d): item %d never started", round, seed, i)
				}
			case panics[i]:
				want = 0
				wantIdx = append(wantIdx, i)
			case fails[i]:
				want = -i - 1
				wantIdx = append(wantIdx, i)
			}
			if out[i] != want {
				t.Fatalf("round %d (seed %d): out[%d] = %d, want %d", round, seed, i, out[i], want)
			}
		}
		tes := taskErrors(t, err)
		if got := indexes(tes); !slices.Equal(got, wantIdx) {
			t.Fatalf("round %d (seed %d): failed indexes %v, want %v", round, seed, got, wantIdx)
		}
		for _, te := range tes {
			var pe *waitgroup.PanicError
			if isPanic := errors.As(te, &pe); isPanic != panics[te.Index] {
				t.Fatalf("round %d: item %d: panic %v, want %v", round, te.Index, isPanic, panics[te.Index])
			}
		}
	}
}

func TestMapWithoutLimitStartsEveryItemAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 50
		var started sync.WaitGroup
		started.Add(n)
		allStarted := make(chan struct{})
		go func() { started.Wait(); close(allStarted) }()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := waitgroup.Map(ctx, make([]int, n), func(ctx context.Context, _ int) (bool, error) {
			started.Done()
			select {
			case <-allStarted: // only if every item runs at once
				return true, nil
			case <-ctx.Done():
				return false, ctx.Err()
			}
		})
		if err != nil || slices.Contains(out, false) {
			t.Fatalf("Map = %v, %v; want every item to see the others started", out, err)
		}
	})
}

func TestMapLimitBoundsCalls(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var running, most atomic.Int32
				start := time.Now()
				_, err := waitgroup.Map(context.Background(), make([]int, 20), func(ctx context.Context, _ int) (int, error) {
					r := running.Add(1)
					for m := most.Load(); r > m && !most.CompareAndSwap(m, r); m = most.Load() {
					}
					time.Sleep(time.Second)
					running.Add(-1)
					return 0, nil
				}, waitgroup.Limit(limit))
				if err != nil {
					t.Fatal(err)
				}
				if got := most.Load(); got != int32(limit) {
					t.Errorf("at most %d calls ran at once, want %d", got, limit)
				}
				// 20 one-second items, limit at a time, packed tight.
				if got, want := time.Since(start), time.Duration((20+limit-1)/limit)*time.Second; got != want {
					t.Errorf("Map took %v, want %v", got, want)
				}
			})
		})
	}
}

func TestMapCancelOnError(t *testing.T) {
	t.Run("limit 1: later items are not started", func(t *testing.T) {
		var calls atomic.Int32
		out, err := waitgroup.Map(context.Background(), []int{1, 2, 3, 4, 5}, func(ctx context.Context, i int) (int, error) {
			calls.Add(1)
			if i == 2 {
				return 20, errItem
			}
			return i * 10, nil
		}, waitgroup.CancelOnError(), waitgroup.Limit(1))
		if want := []int{10, 20, 0, 0, 0}; !slices.Equal(out, want) {
			t.Errorf("out = %v, want %v", out, want)
		}
		if got := indexes(taskErrors(t, err)); !slices.Equal(got, []int{1}) || !errors.Is(err, errItem) {
			t.Errorf("err = %v, want item 1's failure alone", err)
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("f called %d times, want 2", n)
		}
	})
	t.Run("no limit: the others see the cause, their echoes are left out", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			items := make([]int, 10)
			for i := range items {
				items[i] = i
			}
			var causes atomic.Int32
			_, err := waitgroup.Map(context.Background(), items, func(ctx context.Context, i int) (int, error) {
				if i == 6 {
					time.Sleep(time.Second) // the others are waiting by then
					return 0, errItem
				}
				<-ctx.Done()
				if errors.Is(context.Cause(ctx), errItem) {
					causes.Add(1)
				}
				return 0, ctx.Err()
			}, waitgroup.CancelOnError())
			if got := indexes(taskErrors(t, err)); !slices.Equal(got, []int{6}) {
				t.Errorf("err = %v, want item 6's failure alone", err)
			}
			if n := causes.Load(); n != 9 {
				t.Errorf("%d items saw the failure as their context's cause, want 9", n)
			}
		})
	})
}

func TestMapCallerContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("client went away")
		ctx, cancel := context.WithCancelCause(context.Background())
		var running, calls atomic.Int32
		done := make(chan struct{})
		var out []int
		var err error
		go func() {
			defer close(done)
			out, err = waitgroup.Map(ctx, []int{1, 2, 3, 4, 5, 6}, func(ctx context.Context, i int) (int, error) {
				calls.Add(1)
				running.Add(1)
				defer running.Add(-1)
				if i == 1 {
					return 10, nil
				}
				<-ctx.Done()
				time.Sleep(time.Second) // still running after ctx ended
				return i * 10, nil      // a value alongside no error, late
			}, waitgroup.Limit(2))
		}()
		synctest.Wait() // item 1 done, item 2 and 3 blocked
		cancel(cause)
		<-done
		if r := running.Load(); r != 0 {
			t.Errorf("Map returned with %d calls running", r)
		}
		if want := []int{10, 20, 30, 0, 0, 0}; !slices.Equal(out, want) {
			t.Errorf("out = %v, want %v", out, want)
		}
		if n := calls.Load(); n != 3 {
			t.Errorf("f called %d times, want 3", n)
		}
		if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
			t.Errorf("err = %v, want it to match context.Canceled and the cause", err)
		}
		if !strings.Contains(fmt.Sprint(err), "3 of 6 items not started") {
			t.Errorf("err = %v, want it to say how many items were not started", err)
		}
	})
	t.Run("already done", func(t *testing.T) {
		out, err := waitgroup.Map(expired(), []int{1, 2}, func(ctx context.Context, i int) (int, error) {
			t.Error("f called with an expired context")
			return i, nil
		})
		if !slices.Equal(out, []int{0, 0}) || !errors.Is(err, context.Canceled) {
			t.Errorf("Map = %v, %v; want zeros and context.Canceled", out, err)
		}
	})
	t.Run("ended once every item started: the items' results stand", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		out, err := waitgroup.Map(ctx, []int{1, 2}, func(ctx context.Context, i int) (int, error) {
			if i == 2 {
				cancel()
			}
			return i, nil
		}, waitgroup.Limit(1))
		if !slices.Equal(out, []int{1, 2}) || err != nil {
			t.Errorf("Map = %v, %v; want [1 2], nil", out, err)
		}
	})
}

func TestMapPanicAndGoexit(t *testing.T) {
	for _, limit := range []int{-1, 1, 2} {
		opts := []waitgroup.Option{waitgroup.Limit(limit)}
		t.Run(fmt.Sprintf("Limit(%d)", limit), func(t *testing.T) {
			out, err := waitgroup.Map(context.Background(), []int{0, 1, 2, 3, 4, 5}, func(ctx context.Context, i int) (int, error) {
				switch i {
				case 1:
					panic("kaboom")
				case 2, 3:
					runtime.Goexit() // ends the call without an error
				}
				return i + 100, nil
			}, opts...)
			if want := []int{100, 0, 0, 0, 104, 105}; !slices.Equal(out, want) {
				t.Errorf("out = %v, want %v", out, want)
			}
			var pe *waitgroup.PanicError
			tes := taskErrors(t, err)
			if len(tes) != 1 || tes[0].Index != 1 || !errors.As(err, &pe) || pe.Value != "kaboom" {
				t.Errorf("err = %v, want item 1's panic alone", err)
			}
		})
	}
}

func TestMapEmptyAndMisuse(t *testing.T) {
	out, err := waitgroup.Map(context.Background(), nil, func(ctx context.Context, i int) (int, error) { return i, nil })
	if out == nil || len(out) != 0 || err != nil {
		t.Errorf("Map(nil items) = %#v, %v; want an empty slice, nil", out, err)
	}
	f := func(ctx context.Context, i int) (int, error) { return i, nil }
	tests := []struct {
		name, want string
		call       func()
	}{
		{"nil ctx", "nil context", func() { waitgroup.Map(nilContext, []int{1}, f) }},
		{"nil f", "nil function", func() { waitgroup.Map[int, int](context.Background(), []int{1}, nil) }},
		{"Limit(0)", "Limit(0)", func() { waitgroup.Map(context.Background(), []int{1}, f, waitgroup.Limit(0)) }},
		{"nil option", "nil Option", func() { waitgroup.Map(context.Background(), []int{1}, f, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { panicsWith(t, tt.want, tt.call) })
	}
}

// countingParent is a long-lived context that counts the contexts
// registered with it for cancellation and not yet released, through the
// AfterFunc method that package context uses to register them.
type countingParent struct {
	context.Context
	live atomic.Int64
}

// Value hides the parent's values, among them the one through which package
// context would find base's cancelCtx and register with it directly.
func (p *countingParent) Value(any) any { return nil }

func (p *countingParent) AfterFunc(f func()) (stop func() bool) {
	p.live.Add(1)
	stopParent := context.AfterFunc(p.Context, f)
	return func() bool {
		p.live.Add(-1)
		return stopParent()
	}
}

// TestMapReleasesEverything makes many Map calls under one long-lived parent
// context and checks that none stays registered with it, and that the heap
// does not grow with the number of calls.
func TestMapReleasesEverything(t *testing.T) {
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	parent := &countingParent{Context: base}
	f := func(ctx context.Context, i int) (int, error) { return i, nil }
	calls := 100_000
	if testing.Short() {
		calls = 10_000
	}
	items := []int{1, 2, 3}
	for range 100 { // warm up
		waitgroup.Map(parent, items, f)
	}
	before := heapAfterGC()
	for range calls {
		if _, err := waitgroup.Map(parent, items, f); err != nil {
			t.Fatal(err)
		}
	}
	if n := parent.live.Load(); n != 0 {
		t.Errorf("%d contexts still registered with the parent after %d Map calls", n, calls)
	}
	// A context per call left registered would hold over 100 bytes each.
	if grown := int64(heapAfterGC()) - int64(before); grown > int64(calls)*8 {
		t.Errorf("heap grew by %d bytes over %d Map calls", grown, calls)
	}
}

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMapKeepsMaxErrors fails more items than a group keeps errors: Map's
// error has MaxErrors *TaskErrors in item order, then the count of the rest,
// while out still has every item's result.
func TestMapKeepsMaxErrors(t *testing.T) {
	const n = waitgroup.MaxErrors + 36
	out, err := waitgroup.Map(context.Background(), make([]int, n), func(ctx context.Context, _ int) (int, error) {
		return 1, errItem
	}, waitgroup.Limit(3))
	if slices.Contains(out, 0) {
		t.Errorf("out = %v, want every result", out)
	}
	errs := err.(interface{ Unwrap() []error }).Unwrap()
	if len(errs) != waitgroup.MaxErrors+1 || !errors.Is(errs[len(errs)-1], waitgroup.ErrTooManyErrors) {
		t.Fatalf("%d errors, the last %v; want %d and ErrTooManyErrors", len(errs), errs[len(errs)-1], waitgroup.MaxErrors+1)
	}
	tes := taskErrors(t, errors.Join(errs[:len(errs)-1]...))
	if !slices.IsSorted(indexes(tes)) {
		t.Errorf("indexes %v, want them in item order", indexes(tes))
	}
}
