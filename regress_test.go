// Regression tests from an adversarial review of the core, and checks of
// paths the other tests do not reach.
package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// work added to an earlier link while Wait is blocked on a later link is
// not covered: Wait returns nil with an Add'ed ID pending.
func TestWaitCoversWorkAddedToAnEarlierLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		s1, s2 := g.Sub(), g.Sub()
		x := s2.Add()
		w := waitAsync(g, context.Background())
		synctest.Wait() // Wait has passed g and s1, blocks on s2
		y := s1.Add()   // work added while the Wait is in progress
		s2.Done(x)
		err, ok := returned(w)
		if ok && err == nil {
			t.Fatalf("Wait returned nil while %d task(s) pending: %v", len(g.Pending()), g.Pending())
		}
		s1.Done(y)
		<-w
	})
}

// a linked group's task that returns a *WaitError (e.g. it waited for
// something else with its own deadline) makes the parent's Wait "give up"
// although its ctx is not done and all work is done.
func TestLinkTaskReturningWaitErrorIsNotAGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		s := g.Sub()
		other := waitgroup.New()
		other.Add(waitgroup.Name("stuck"))
		s.Go(func(context.Context) error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			return other.Wait(ctx) // a *WaitError, as this task's error
		})
		err := g.Wait(context.Background())
		var we *waitgroup.WaitError
		if errors.As(err, &we) && we.Err == nil {
			t.Fatalf("Wait(Background) gave up: Err=%v Total=%d msg=%q", we.Err, we.Total, err)
		}
	})
}

// Wait(expired ctx) after all work is done must return the real result.
// A linked group's real error that wraps ctx.Err() is taken for a give-up.
func TestLinkErrorWrappingCtxErrIsNotAGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		s := g.Sub()
		errQuery := fmt.Errorf("query: %w", context.DeadlineExceeded)
		s.Go(fail(errQuery))
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		time.Sleep(2 * time.Second) // the shutdown deadline has passed; work is done
		err := g.Wait(ctx)
		var we *waitgroup.WaitError
		if errors.As(err, &we) {
			t.Errorf("Wait = WaitError(Total=%d, Errs=%v), want the real result %v", we.Total, we.Errs, errQuery)
		}
	})
}

// a WaitError does not include errors of linked groups, although the
// doc says it matches "every task error reported before Wait gave up", and a
// link that was fully waited has its round consumed, so the error is lost.
func TestWaitErrorCarriesLinkErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		s1, s2 := g.Sub(), g.Sub()
		errA := errors.New("A failed")
		s1.Go(fail(errA))
		stuck := s2.Add(waitgroup.Name("stuck"))
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := g.Wait(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v", err)
		}
		if !errors.Is(err, errA) {
			t.Errorf("WaitError does not match the linked group's error: %v", err)
		}
		s2.Done(stuck)
	})
}

// link errors are echo-filtered against g's ctx at Wait time, own errors
// against g's ctx when the task ended: a linked group's error is not
// "reported like the group's own".
func TestLinkErrorsJudgedLikeOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		s := g.Sub()
		errOwnCanceled := fmt.Errorf("own rpc: %w", context.Canceled) // from a foreign ctx, before any cancellation
		errSubCanceled := fmt.Errorf("sub rpc: %w", context.Canceled)
		errReal := errors.New("real")
		g.Go(fail(errOwnCanceled))
		s.Go(fail(errSubCanceled))
		synctest.Wait()
		g.Cancel(nil) // later shutdown
		g.Go(fail(errReal))
		err := g.Wait(context.Background())
		if !errors.Is(err, errOwnCanceled) {
			t.Fatalf("own error dropped: %v", err)
		}
		if !errors.Is(err, errSubCanceled) {
			t.Errorf("Wait = %q: the own error is kept, the identical linked one is dropped", err)
		}
	})
}

// a panic whose value is context.Canceled vanishes when the group is
// cancelled and another error exists.
func TestPanicIsNeverAnEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		g.Cancel(nil)
		g.Go(func(ctx context.Context) error { panic(ctx.Err()) })
		g.Go(fail(errors.New("real")))
		err := g.Wait(context.Background())
		var pe *waitgroup.PanicError
		if !errors.As(err, &pe) {
			t.Errorf("Wait = %q: the panic is not reported", err)
		}
	})
}

// Pending double-lists a group reachable by two links (diamond).
func TestPendingDiamondListsOnce(t *testing.T) {
	g := waitgroup.New()
	a, b, c := waitgroup.New(), waitgroup.New(), waitgroup.New()
	g.Link(a)
	g.Link(b)
	a.Link(c)
	b.Link(c)
	id := c.Add(waitgroup.Name("one"))
	defer c.Done(id)
	if p := g.Pending(); len(p) != 1 {
		t.Errorf("Pending lists %d tasks for one pending ID: %v", len(p), p)
	}
}

// a Go blocked at the limit while a Wait is in progress is not covered:
// the finishing task frees its slot before it counts as done, so Wait can
// see pending == 0 before the unblocked Go registers its task.
func TestWaitCoversGoBlockedAtLimit(t *testing.T) {
	bad := 0
	for range 200 {
		synctest.Test(t, func(t *testing.T) {
			g := waitgroup.New()
			g.SetLimit(1)
			release, second := make(chan struct{}), make(chan struct{})
			g.Go(func(context.Context) error { <-release; return nil })
			w := waitAsync(g, context.Background())
			go g.Go(func(context.Context) error { <-second; return nil }) // blocks: limit 1
			synctest.Wait()                                               // Wait and the second Go are both blocked
			close(release)
			if err, ok := returned(w); ok && err == nil {
				bad++
			}
			close(second)
			g.Wait(context.Background())
		})
	}
	if bad > 0 {
		t.Errorf("%d/200: Wait returned nil although a Go blocked at the limit during it had not finished", bad)
	}
}

func heapNow() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// taskTable.reset only runs when pending drops to 0. A service group
// always has its listener/accept loop pending, so after one burst of 1M
// connections the table stays at 40 MB for the life of the group.
func TestTableShrinksAfterBurst(t *testing.T) {
	for _, keepOne := range []bool{false, true} {
		g := waitgroup.New()
		var listener waitgroup.ID
		if keepOne {
			listener = g.Add(waitgroup.Name("listener"))
		}
		base := heapNow()
		ids := make([]waitgroup.ID, 1<<20)
		for i := range ids {
			ids[i] = g.Add(waitgroup.Name("conn"))
		}
		for _, id := range ids {
			g.Done(id)
		}
		ids = nil
		grown := int64(heapNow()) - int64(base)
		t.Logf("keep one pending=%v: heap retained after burst = %d MB", keepOne, grown>>20)
		if keepOne && grown > 8<<20 {
			t.Errorf("%d MB pinned by an idle table while one task is pending", grown>>20)
		}
		if keepOne {
			g.Done(listener)
		}
		runtime.KeepAlive(g)
	}
}

// a parent's Wait ends a linked group's error round (the inner Wait sets
// reported) even when that pass is thrown away because new work came to the
// parent; new work in the link then drops the error before any Wait that
// returned to a caller reported it.
func TestDiscardedPassKeepsLinkRound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		s1, s2 := g.Sub(), g.Sub()
		errA := errors.New("A")
		s1.Go(fail(errA))
		x := s2.Add()
		synctest.Wait()
		w := waitAsync(g, context.Background())
		synctest.Wait() // the pass has waited s1 (round "reported") and blocks on s2
		y := g.Add()    // new work in g: that pass will be discarded
		s1.Go(fail(nil))
		synctest.Wait() // s1: new round, errA gone
		s2.Done(x)
		g.Done(y)
		if err := <-w; !errors.Is(err, errA) {
			t.Errorf("errA reported by no Wait: g.Wait = %v, s1.Wait = %v", err, s1.Wait(context.Background()))
		}
	})
}

func TestZeroGroupConcurrentFirstUse(t *testing.T) {
	for range 200 {
		var g waitgroup.Group
		other := waitgroup.New()
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				switch i % 4 {
				case 0:
					id := g.Add()
					g.Done(id)
				case 1:
					_ = g.Context()
				case 2:
					g.Link(other)
				case 3:
					g.Go(func(context.Context) error { return nil })
				}
			})
		}
		wg.Wait()
		if err := g.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStaleIDsAfterShrink(t *testing.T) {
	g := waitgroup.New()
	var old []waitgroup.ID
	for range 5000 {
		old = append(old, g.Add())
	}
	for _, id := range old {
		if err := g.Done(id); err != nil {
			t.Fatal(err)
		}
	}
	// the table was dropped; new IDs reuse its slots
	fresh := []waitgroup.ID{g.Add(), g.Add()}
	for _, id := range old[:100] {
		if err := g.Done(id); !errors.Is(err, waitgroup.ErrUnknownID) {
			t.Fatalf("stale Done = %v", err)
		}
	}
	if n := len(g.Pending()); n != 2 {
		t.Fatalf("pending %d", n)
	}
	for _, id := range fresh {
		if err := g.Done(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestGoexitWithLimitFreesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		g.SetLimit(1)
		for range 3 {
			g.Go(func(context.Context) error { runtime.Goexit(); return nil })
		}
		if err := g.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTaskWaitingForItsOwnGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		g.Go(func(context.Context) error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			g.Link(waitgroup.New())
			g.Cancel(nil)
			return g.Wait(ctx)
		}, waitgroup.Name("self"))
		err := g.Wait(context.Background())
		var we *waitgroup.WaitError
		if !errors.As(err, &we) || we.Total != 1 {
			t.Fatalf("%v", err)
		}
	})
}

// A group linked while it has pending work counts as busy in the group that
// links it from that moment: the Wait of the new parent waits for it.
// (Before the fix, a group without parents never told anyone it was busy,
// so the first Link of a busy group was not counted, and the Wait returned
// nil at once.)
func TestLinkBusyGroup(t *testing.T) {
	for _, tc := range []struct {
		name    string
		parents int // parents linked before the busy one
	}{{"first parent", 0}, {"second parent", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				child := waitgroup.New()
				for range tc.parents {
					waitgroup.New().Link(child)
				}
				id := child.Add()
				parent := waitgroup.New()
				parent.Link(child)
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				if err := parent.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Wait with the linked group busy = %v, want a timeout", err)
				}
				if err := child.Done(id); err != nil {
					t.Fatal(err)
				}
				if err := parent.Wait(t.Context()); err != nil {
					t.Fatalf("Wait after Done = %v, want nil", err)
				}
			})
		})
	}
}
