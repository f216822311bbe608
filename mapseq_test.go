package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// count returns the sequence 0, 1, 2, ... below n, or without end if n < 0,
// and counts in pulled the items taken from it.
func count(n int, pulled *atomic.Int64) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; n < 0 || i < n; i++ {
			pulled.Add(1)
			if !yield(i) {
				return
			}
		}
	}
}

type pair struct {
	r   int
	err error
}

func collect(seq iter.Seq2[int, error]) []pair {
	var out []pair
	for r, err := range seq {
		out = append(out, pair{r, err})
	}
	return out
}

// TestMapSeqYieldsInInputOrder fails random items at random limits and
// checks that every item is yielded once, in order, with what f returned.
func TestMapSeqYieldsInInputOrder(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	for round := range 100 {
		n := rng.IntN(300)
		failEvery := rng.IntN(10) + 1
		var opts []waitgroup.Option
		if l := rng.IntN(6); l > 0 {
			opts = append(opts, waitgroup.Limit(l))
		}
		var pulled atomic.Int64
		got := collect(waitgroup.MapSeq(context.Background(), count(n, &pulled), func(ctx context.Context, i int) (int, error) {
			if i%4 == 0 {
				runtime.Gosched() // let later items end first
			}
			if i%failEvery == 0 {
				return -i, errItem
			}
			return i * 2, nil
		}, opts...))
		if len(got) != n {
			t.Fatalf("round %d (seed %d): %d pairs for %d items", round, seed, len(got), n)
		}
		for i, p := range got {
			if i%failEvery == 0 {
				var te *waitgroup.TaskError
				if p.r != -i || !errors.As(p.err, &te) || te.Index != i || !errors.Is(p.err, errItem) {
					t.Fatalf("round %d (seed %d): pair %d = %d, %v; want %d, item %d's failure", round, seed, i, p.r, p.err, -i, i)
				}
			} else if p.r != i*2 || p.err != nil {
				t.Fatalf("round %d (seed %d): pair %d = %d, %v; want %d, nil", round, seed, i, p.r, p.err, i*2)
			}
		}
	}
}

func TestMapSeqBoundsCalls(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []waitgroup.Option
		want int
	}{
		{"Limit(1)", []waitgroup.Option{waitgroup.Limit(1)}, 1},
		{"Limit(5)", []waitgroup.Option{waitgroup.Limit(5)}, 5},
		{"default", nil, runtime.GOMAXPROCS(0)},
		{"Limit(-1) is the default", []waitgroup.Option{waitgroup.Limit(-1)}, runtime.GOMAXPROCS(0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var running, most atomic.Int32
				var pulled atomic.Int64
				n := 0
				for _, err := range waitgroup.MapSeq(context.Background(), count(40, &pulled), func(ctx context.Context, i int) (int, error) {
					r := running.Add(1)
					for m := most.Load(); r > m && !most.CompareAndSwap(m, r); m = most.Load() {
					}
					time.Sleep(time.Duration(1+i%3) * time.Second)
					running.Add(-1)
					return i, nil
				}, tt.opts...) {
					if err != nil {
						t.Fatal(err)
					}
					n++
				}
				if got := most.Load(); got != int32(min(tt.want, 40)) {
					t.Errorf("at most %d calls ran at once, want %d", got, tt.want)
				}
				if n != 40 {
					t.Errorf("%d pairs, want 40", n)
				}
			})
		})
	}
}

// TestMapSeqEndlessInputAndBreak breaks out of a MapSeq over an endless
// input: items are pulled lazily, and when the loop statement ends the calls
// still running have seen their context cancelled and returned.
func TestMapSeqEndlessInputAndBreak(t *testing.T) {
	for _, limit := range []int{1, 2, 7} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var pulled atomic.Int64
				var running, cancelled atomic.Int32
				const stopAt = 25
				yielded := 0
				for r, err := range waitgroup.MapSeq(context.Background(), count(-1, &pulled), func(ctx context.Context, i int) (int, error) {
					running.Add(1)
					defer running.Add(-1)
					if i%5 == 4 {
						// A slow item: the ones after it end first and
						// wait in the ring.
						select {
						case <-time.After(time.Second):
						case <-ctx.Done():
							cancelled.Add(1)
							return 0, ctx.Err()
						}
					}
					return i, nil
				}, waitgroup.Limit(limit)) {
					if err != nil || r != yielded {
						t.Fatalf("pair %d = %d, %v", yielded, r, err)
					}
					yielded++
					if p := pulled.Load(); p > int64(yielded+2*limit+1) {
						t.Fatalf("%d items pulled with %d yielded, want at most %d", p, yielded, yielded+2*limit+1)
					}
					if yielded == stopAt {
						synctest.Wait() // let the calls after it start
						break
					}
				}
				if r := running.Load(); r != 0 {
					t.Errorf("%d calls running after the loop ended", r)
				}
				if yielded != stopAt {
					t.Errorf("%d pairs yielded, want %d", yielded, stopAt)
				}
			})
		})
	}
}

func TestMapSeqLoopBodyPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running atomic.Int32
		var pulled atomic.Int64
		func() {
			defer func() {
				if r := recover(); r != "body" {
					t.Errorf("recovered %v, want the body's panic", r)
				}
			}()
			for range waitgroup.MapSeq(context.Background(), count(-1, &pulled), func(ctx context.Context, i int) (int, error) {
				running.Add(1)
				defer running.Add(-1)
				if i > 0 {
					<-ctx.Done() // until the loop ends
				}
				return i, nil
			}, waitgroup.Limit(3)) {
				synctest.Wait() // items 1 and 2 are running
				panic("body")
			}
		}()
		if r := running.Load(); r != 0 {
			t.Errorf("%d calls running after the loop body panicked", r)
		}
	})
}

func TestMapSeqCancelOnError(t *testing.T) {
	t.Run("yields the items before the failure, then the failure", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var pulled atomic.Int64
			got := collect(waitgroup.MapSeq(context.Background(), count(-1, &pulled), func(ctx context.Context, i int) (int, error) {
				switch {
				case i < 5:
					return i, nil
				case i == 5:
					time.Sleep(time.Second) // the later ones are waiting by then
					return 50, errItem
				}
				<-ctx.Done()
				return i, ctx.Err()
			}, waitgroup.CancelOnError(), waitgroup.Limit(4)))
			if len(got) != 6 {
				t.Fatalf("%d pairs %v, want 6", len(got), got)
			}
			var te *waitgroup.TaskError
			if last := got[5]; last.r != 50 || !errors.As(last.err, &te) || te.Index != 5 || !errors.Is(last.err, errItem) {
				t.Errorf("last pair %v, want 50 and item 5's failure", last)
			}
		})
	})
	t.Run("an echo before the failure is replaced by the failure", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var pulled atomic.Int64
			got := collect(waitgroup.MapSeq(context.Background(), count(10, &pulled), func(ctx context.Context, i int) (int, error) {
				if i == 1 {
					return 10, fmt.Errorf("item 1: %w", errItem)
				}
				<-ctx.Done()
				return i, fmt.Errorf("stopped: %w", context.Cause(ctx))
			}, waitgroup.CancelOnError(), waitgroup.Limit(3)))
			var te *waitgroup.TaskError
			if len(got) != 1 || got[0].r != 10 || !errors.As(got[0].err, &te) || te.Index != 1 || !errors.Is(got[0].err, errItem) {
				t.Errorf("pairs %v, want one: 10 and item 1's failure", got)
			}
		})
	})
}

func TestMapSeqCallerContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var pulled atomic.Int64
		var called [100]atomic.Bool
		var got []pair
		for r, err := range waitgroup.MapSeq(ctx, count(-1, &pulled), func(ctx context.Context, i int) (int, error) {
			called[i].Store(true)
			if i >= 3 {
				<-ctx.Done()
				return i, ctx.Err()
			}
			return i, nil
		}, waitgroup.Limit(2)) {
			got = append(got, pair{r, err})
			if len(got) == 3 {
				cancel()
			}
		}
		// Items 0, 1 and 2 succeed; the items after them that were
		// started return ctx.Err(); the last item pulled may not have been
		// started. Each item pulled gets its pair, and no more is pulled.
		if len(got) < 4 || int64(len(got)) != pulled.Load() {
			t.Fatalf("pairs %v for %d items pulled, want one per item and more than 3", got, pulled.Load())
		}
		for i, p := range got {
			var te *waitgroup.TaskError
			switch {
			case i < 3:
				if p != (pair{i, nil}) {
					t.Errorf("pair %d = %v, want %d, nil", i, p, i)
				}
			case !errors.As(p.err, &te) || te.Index != i || !errors.Is(p.err, context.Canceled):
				t.Errorf("pair %d = %v, want item %d's error matching context.Canceled", i, p, i)
			case !called[i].Load() && (i != len(got)-1 || !strings.Contains(p.err.Error(), "not started")):
				t.Errorf("pair %d = %v for an item not started, want the last pair, saying so", i, p)
			}
		}
	})
}

func TestMapSeqPanicGoexitAndReuse(t *testing.T) {
	for _, limit := range []int{-1, 1, 2} {
		t.Run(fmt.Sprintf("Limit(%d)", limit), func(t *testing.T) {
			var pulled atomic.Int64
			seq := waitgroup.MapSeq(context.Background(), count(6, &pulled), func(ctx context.Context, i int) (int, error) {
				switch i {
				case 1:
					panic("kaboom")
				case 2, 3:
					runtime.Goexit() // ends the call, and its worker, without an error
				}
				return i + 10, nil
			}, waitgroup.Limit(limit))
			for range 2 { // a sequence may be ranged over again
				got := collect(seq)
				var pe *waitgroup.PanicError
				if len(got) != 6 || got[0] != (pair{10, nil}) || got[1].r != 0 || !errors.As(got[1].err, &pe) ||
					got[2] != (pair{0, nil}) || got[3] != (pair{0, nil}) || got[4] != (pair{14, nil}) || got[5] != (pair{15, nil}) {
					t.Errorf("pairs %v, want 10, item 1's panic, 0 and nil twice, 14, 15", got)
				}
			}
		})
	}
}

func TestMapSeqMisuse(t *testing.T) {
	f := func(ctx context.Context, i int) (int, error) { return i, nil }
	var pulled atomic.Int64
	tests := []struct {
		name, want string
		call       func()
	}{
		{"nil ctx", "nil context", func() { waitgroup.MapSeq(nilContext, count(1, &pulled), f) }},
		{"nil items", "nil items", func() { waitgroup.MapSeq(context.Background(), nil, f) }},
		{"nil f", "nil function", func() { waitgroup.MapSeq[int, int](context.Background(), count(1, &pulled), nil) }},
		{"Limit(0)", "Limit(0)", func() { waitgroup.MapSeq(context.Background(), count(1, &pulled), f, waitgroup.Limit(0)) }},
		{"nil option", "nil Option", func() { waitgroup.MapSeq(context.Background(), count(1, &pulled), f, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { panicsWith(t, tt.want, tt.call) })
	}
	if n := pulled.Load(); n != 0 {
		t.Errorf("MapSeq pulled %d items before being ranged over", n)
	}
}
